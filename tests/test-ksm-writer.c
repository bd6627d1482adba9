/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Another writer of the KSM knobs: noticed, stood back from, and left behind (ksm/ksm-writer.c). */

/*
 * The KSM step runs over a copy of a fixture sysfs tree
 * (tests/data/ksm/linux-6.1) with a fixed tuner (run 1, pages_to_scan
 * 100, sleep 50 ms) and a fake /proc whose <pid>/comm files are the
 * "process list" the tracker scans. A test plays the other writer by
 * writing a knob file or adding a ksmtuned process.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "ksm/ksm-step.h"
#include "ksm/ksm-writer.h"
#include "tests/vt-test-util.h"

typedef struct {
        char *tmp;
        char *root;
        char *proc;
        VtKsmStep *step;
} Fixture;

static void
fixed_tuner(const VtKsmTunerInput *input, const VtKsmTunerConfig *config, VtKsmTunerState *state,
            VtKsmDecision *ret_decision)
{
        memset(ret_decision, 0, sizeof(*ret_decision));
        ret_decision->run = 1;
        ret_decision->pages_to_scan = 100;
        ret_decision->sleep_millisecs = 50;
        ret_decision->reason = "fixed";
}

static void
set_file(const char *dir, const char *name, const char *text)
{
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autoptr(GError) error = NULL;

        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
}

static guint64
knob(Fixture *f, const char *name)
{
        g_autofree char *path = g_build_filename(f->root, name, NULL);
        g_autofree char *text = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        return g_ascii_strtoull(text, NULL, 10);
}

/* A process in the fake /proc. */
static void
add_process(Fixture *f, const char *pid, const char *comm)
{
        g_autofree char *dir = g_build_filename(f->proc, pid, NULL);
        g_autofree char *text = g_strdup_printf("%s\n", comm);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        set_file(dir, "comm", text);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autofree char *src = g_test_build_filename(G_TEST_DIST, "data", "ksm", "linux-6.1", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(GDir) dir = NULL;
        VtKsmTunerConfig config;
        const char *name;

        f->tmp = g_dir_make_tmp("vt-ksm-writer-XXXXXX", &error);
        g_assert_no_error(error);
        f->root = g_build_filename(f->tmp, "ksm", NULL);
        f->proc = g_build_filename(f->tmp, "proc", NULL);
        g_assert_cmpint(g_mkdir(f->root, 0755), ==, 0);
        g_assert_cmpint(g_mkdir(f->proc, 0755), ==, 0);
        dir = g_dir_open(src, 0, &error);
        g_assert_no_error(error);
        while ((name = g_dir_read_name(dir)) != NULL) {
                g_autofree char *from = g_build_filename(src, name, NULL);
                g_autofree char *text = NULL;

                g_assert_true(g_file_get_contents(from, &text, NULL, NULL));
                set_file(f->root, name, text);
        }
        add_process(f, "1", "systemd");
        vt_ksm_tuner_config_init(&config);
        f->step = vt_ksm_step_new(f->root, f->proc, fixed_tuner, &config, &error);
        g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_clear_pointer(&f->step, vt_ksm_step_free);
        vt_test_remove_tree(f->tmp);
        g_free(f->tmp);
        g_free(f->root);
        g_free(f->proc);
}

static void
tick(Fixture *f, gboolean apply)
{
        static const VtKsmHost host = {
            .mem_total = G_GUINT64_CONSTANT(8) << 30,
            .mem_available = G_GUINT64_CONSTANT(1) << 30,
            .n_cpus = 4,
        };
        g_autoptr(GError) error = NULL;

        g_assert_true(vt_ksm_step_run(f->step, &host, NULL, 0, apply, NULL, &error));
        g_assert_no_error(error);
}

/* ksmtuned's write under vmtided: one warning naming the knob, no write
 * back until it has been quiet long enough, then vmtided's value again. */
static void
test_writer_knob_changed(Fixture *f, gconstpointer data)
{
        tick(f, TRUE);
        g_assert_cmpuint(knob(f, "pages_to_scan"), ==, 100);
        g_assert_null(vt_ksm_step_get_other_writer(f->step));

        set_file(f->root, "pages_to_scan", "1250\n");
        g_test_expect_message("vmtide-ksm", G_LOG_LEVEL_WARNING,
                              "another writer of the KSM knobs: knobs changed under vmtided: "
                              "pages_to_scan 100 -> 1250; vmtided stops writing them*");
        tick(f, TRUE);
        g_test_assert_expected_messages();
        g_assert_cmpuint(knob(f, "pages_to_scan"), ==, 1250);
        g_assert_cmpstr(vt_ksm_step_get_other_writer(f->step), ==,
                        "knobs changed under vmtided: pages_to_scan 100 -> 1250");

        /* It keeps writing: still its, no second warning. */
        for (guint i = 0; i < VT_KSM_WRITER_QUIET_TICKS - 5; i++)
                tick(f, TRUE);
        set_file(f->root, "sleep_millisecs", "10\n");
        tick(f, TRUE);
        for (guint i = 0; i < VT_KSM_WRITER_QUIET_TICKS - 1; i++)
                tick(f, TRUE);
        g_assert_cmpuint(knob(f, "pages_to_scan"), ==, 1250);
        g_assert_cmpuint(knob(f, "sleep_millisecs"), ==, 10);
        g_assert_nonnull(vt_ksm_step_get_other_writer(f->step));

        /* Quiet long enough: vmtided writes again, and says so. */
        g_test_expect_message("vmtide-ksm", G_LOG_LEVEL_MESSAGE,
                              "the other writer of the KSM knobs * quiet for 30 ticks*");
        tick(f, TRUE);
        g_test_assert_expected_messages();
        g_assert_null(vt_ksm_step_get_other_writer(f->step));
        g_assert_cmpuint(knob(f, "pages_to_scan"), ==, 100);
        g_assert_cmpuint(knob(f, "sleep_millisecs"), ==, 50);
        tick(f, TRUE);
        g_assert_null(vt_ksm_step_get_other_writer(f->step));
}

/* A ksmtuned process, before vmtided wrote anything: nothing written. */
static void
test_writer_process(Fixture *f, gconstpointer data)
{
        guint n = 0;

        add_process(f, "812", "ksmtuned");
        g_test_expect_message("vmtide-ksm", G_LOG_LEVEL_WARNING,
                              "another writer of the KSM knobs: process 'ksmtuned' (pid 812) "
                              "running*");
        tick(f, TRUE);
        g_test_assert_expected_messages();
        g_assert_cmpuint(knob(f, "pages_to_scan"), ==, 300);
        g_assert_cmpstr(vt_ksm_step_get_other_writer(f->step), ==,
                        "process 'ksmtuned' (pid 812) running");

        /* Gone: noticed at the next scan, then the quiet ticks. */
        vt_test_remove_tree(f->proc);
        add_process(f, "1", "systemd");
        g_test_expect_message("vmtide-ksm", G_LOG_LEVEL_MESSAGE, "the other writer*");
        while (vt_ksm_step_get_other_writer(f->step) != NULL) {
                g_assert_cmpuint(knob(f, "pages_to_scan"), ==, 300);
                tick(f, TRUE);
                g_assert_cmpuint(++n, <=, VT_KSM_WRITER_SCAN_TICKS + VT_KSM_WRITER_QUIET_TICKS);
        }
        g_test_assert_expected_messages();
        g_assert_cmpuint(n, >=, VT_KSM_WRITER_QUIET_TICKS);
        g_assert_cmpuint(knob(f, "pages_to_scan"), ==, 100);
}

/* A change by hand while vmtided is paused is not a rival on resume. */
static void
test_writer_paused(Fixture *f, gconstpointer data)
{
        tick(f, TRUE);
        tick(f, FALSE);
        set_file(f->root, "pages_to_scan", "777\n");
        tick(f, FALSE);
        tick(f, TRUE);
        g_assert_null(vt_ksm_step_get_other_writer(f->step));
        g_assert_cmpuint(knob(f, "pages_to_scan"), ==, 100);
}

static void
test_writer_find_process(Fixture *f, gconstpointer data)
{
        g_autofree char *none = vt_ksm_writer_find_process(f->proc);
        g_autofree char *missing = vt_ksm_writer_find_process("/nonexistent/proc");
        g_autofree char *found = NULL;

        g_assert_null(none);
        g_assert_null(missing);
        add_process(f, "4242", "ksmctl");
        add_process(f, "self", "ksmtuned"); /* not a pid */
        found = vt_ksm_writer_find_process(f->proc);
        g_assert_cmpstr(found, ==, "'ksmctl' (pid 4242)");
}

#define ADD(path, test) g_test_add(path, Fixture, NULL, fixture_setup, test, fixture_teardown)

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        ADD("/ksm/writer/knob-changed", test_writer_knob_changed);
        ADD("/ksm/writer/process", test_writer_process);
        ADD("/ksm/writer/paused", test_writer_paused);
        ADD("/ksm/writer/find-process", test_writer_find_process);
        return g_test_run();
}
