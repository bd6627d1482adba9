/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the KSM sysfs driver on fake trees (tests/data/ksm/linux-*,
 * copied to a temp dir because writes change them), of the rates between
 * two samples, and one read-only look at this host's real KSM.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "ksm/ksm-proc.h"
#include "ksm/ksm-sample.h"
#include "ksm/ksm-sysfs.h"
#include "tests/vt-test-util.h"

#define OLD_MTIME 1000000000

static const char *const classic_knobs[] = {
    "full_scans",       "max_page_sharing",   "merge_across_nodes",
    "pages_shared",     "pages_sharing",      "pages_to_scan",
    "pages_unshared",   "pages_volatile",     "run",
    "sleep_millisecs",  "stable_node_chains", "stable_node_chains_prune_millisecs",
    "stable_node_dups", "use_zero_pages",     NULL,
};

static const char *const new_knobs_6_18[] = {
    "advisor_max_cpu",
    "advisor_max_pages_to_scan",
    "advisor_min_pages_to_scan",
    "advisor_mode",
    "advisor_target_scan_time",
    "general_profit",
    "ksm_zero_pages",
    "pages_scanned",
    "pages_skipped",
    "smart_scan",
    NULL,
};

/* What each fake kernel has, and the sample it gives. */
typedef struct {
        const char *kernel;
        gboolean is_6_18;
        VtKsmSample sample;
} KernelCase;

static const KernelCase kernel_cases[] = {
    {"linux-6.18",
     TRUE,
     {.run = 1,
      .pages_to_scan = 1000,
      .sleep_millisecs = 10,
      .pages_shared = 2310,
      .pages_sharing = 30114,
      .pages_unshared = 88420,
      .pages_volatile = 1204,
      .full_scans = 3,
      .pages_scanned = 393216,
      .has_pages_scanned = TRUE,
      .general_profit = 116027392,
      .has_general_profit = TRUE,
      .ksm_zero_pages = 120}},
    {"linux-6.1",
     FALSE,
     {.run = 1,
      .pages_to_scan = 300,
      .sleep_millisecs = 20,
      .pages_shared = 5,
      .pages_sharing = 9,
      .pages_unshared = 131000,
      .pages_volatile = 17,
      .full_scans = 1}},
    {"linux-5.15", FALSE, {.run = 0, .pages_to_scan = 100, .sleep_millisecs = 20}},
};

typedef struct {
        char *tmp;
        char *root;
        char *proc_root;
        VtKsmSysfs *sysfs;
} Fixture;

static void
copy_flat_dir(const char *src, const char *dst)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GDir) dir = g_dir_open(src, 0, &error);
        const char *name;

        g_assert_no_error(error);
        g_assert_cmpint(g_mkdir(dst, 0755), ==, 0);
        while ((name = g_dir_read_name(dir)) != NULL) {
                g_autofree char *from = g_build_filename(src, name, NULL);
                g_autofree char *to = g_build_filename(dst, name, NULL);
                g_autofree char *text = NULL;
                gsize len;

                g_file_get_contents(from, &text, &len, &error);
                g_assert_no_error(error);
                g_file_set_contents(to, text, (gssize)len, &error);
                g_assert_no_error(error);
        }
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        const KernelCase *c = data;
        g_autofree char *src = g_test_build_filename(G_TEST_DIST, "data", "ksm", c->kernel, NULL);
        g_autoptr(GError) error = NULL;

        f->tmp = g_dir_make_tmp("vt-ksm-sysfs-XXXXXX", &error);
        g_assert_no_error(error);
        f->root = g_build_filename(f->tmp, "ksm", NULL);
        copy_flat_dir(src, f->root);
        f->proc_root = g_test_build_filename(G_TEST_DIST, "data", "ksm", "proc", "tree-6.18", NULL);
        f->sysfs = vt_ksm_sysfs_new(f->root, &error);
        g_assert_no_error(error);
        g_assert_nonnull(f->sysfs);
        vt_ksm_sysfs_set_proc_root(f->sysfs, f->proc_root);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_clear_pointer(&f->sysfs, vt_ksm_sysfs_free);
        vt_test_remove_tree(f->tmp);
        g_free(f->tmp);
        g_free(f->root);
        g_free(f->proc_root);
}

static char *
fixture_file(Fixture *f, const char *knob)
{
        g_autofree char *path = g_build_filename(f->root, knob, NULL);
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        g_file_get_contents(path, &text, NULL, &error);
        g_assert_no_error(error);
        return g_strstrip(text);
}

static void
assert_file(Fixture *f, const char *knob, const char *expected)
{
        g_autofree char *text = fixture_file(f, knob);

        g_assert_cmpstr(text, ==, expected);
}

static void
fixture_set_file(Fixture *f, const char *knob, const char *text)
{
        g_autofree char *path = g_build_filename(f->root, knob, NULL);
        g_autoptr(GError) error = NULL;

        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
}

/* Replaces @knob by a directory, or a symlink to @target. */
static void
fixture_break_knob(Fixture *f, const char *knob, const char *target)
{
        g_autofree char *path = g_build_filename(f->root, knob, NULL);

        g_assert_cmpint(g_unlink(path), ==, 0);
        if (target == NULL)
                g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
        else
                g_assert_cmpint(symlink(target, path), ==, 0);
}

static void
test_new_errors(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *tmp = NULL;
        VtKsmSysfs *sysfs;

        sysfs = vt_ksm_sysfs_new("/nonexistent/kernel/mm/ksm", &error);
        g_assert_null(sysfs);
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED);
        g_assert_nonnull(strstr(error->message, "this kernel has no KSM"));
        g_assert_nonnull(strstr(error->message, "/nonexistent/kernel/mm/ksm"));
        g_clear_error(&error);

        /* A directory that is not KSM's. */
        tmp = g_dir_make_tmp("vt-ksm-empty-XXXXXX", &error);
        g_assert_no_error(error);
        sysfs = vt_ksm_sysfs_new(tmp, &error);
        g_assert_null(sysfs);
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED);
        g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

static void
test_knobs(Fixture *f, gconstpointer data)
{
        const KernelCase *c = data;
        const char *const *knobs = vt_ksm_sysfs_get_knobs(f->sysfs);
        guint n_expected = g_strv_length((char **)classic_knobs);

        g_assert_cmpstr(vt_ksm_sysfs_get_root(f->sysfs), ==, f->root);
        for (guint i = 0; classic_knobs[i] != NULL; i++)
                g_assert_true(vt_ksm_sysfs_has(f->sysfs, classic_knobs[i]));
        for (guint i = 0; new_knobs_6_18[i] != NULL; i++)
                g_assert_cmpint(vt_ksm_sysfs_has(f->sysfs, new_knobs_6_18[i]), ==, c->is_6_18);
        if (c->is_6_18)
                n_expected += g_strv_length((char **)new_knobs_6_18);
        g_assert_false(vt_ksm_sysfs_has(f->sysfs, "no_such_knob"));

        /* The list: sorted, every file, nothing else. */
        g_assert_cmpuint(g_strv_length((char **)knobs), ==, n_expected);
        for (guint i = 0; knobs[i] != NULL; i++) {
                g_assert_true(vt_ksm_sysfs_has(f->sysfs, knobs[i]));
                if (i > 0)
                        g_assert_cmpint(strcmp(knobs[i - 1], knobs[i]), <, 0);
        }

        g_assert_true(vt_ksm_sysfs_is_writable("pages_to_scan"));
        g_assert_true(vt_ksm_sysfs_is_writable("advisor_mode"));
        g_assert_false(vt_ksm_sysfs_is_writable("pages_sharing"));
        g_assert_false(vt_ksm_sysfs_is_writable("no_such_knob"));
}

static void
assert_sample_equal(const VtKsmSample *got, const VtKsmSample *expected)
{
        g_assert_cmpuint(got->run, ==, expected->run);
        g_assert_cmpuint(got->pages_to_scan, ==, expected->pages_to_scan);
        g_assert_cmpuint(got->sleep_millisecs, ==, expected->sleep_millisecs);
        g_assert_cmpuint(got->pages_shared, ==, expected->pages_shared);
        g_assert_cmpuint(got->pages_sharing, ==, expected->pages_sharing);
        g_assert_cmpuint(got->pages_unshared, ==, expected->pages_unshared);
        g_assert_cmpuint(got->pages_volatile, ==, expected->pages_volatile);
        g_assert_cmpuint(got->full_scans, ==, expected->full_scans);
        g_assert_cmpuint(got->pages_scanned, ==, expected->pages_scanned);
        g_assert_cmpint(got->has_pages_scanned, ==, expected->has_pages_scanned);
        g_assert_cmpint(got->general_profit, ==, expected->general_profit);
        g_assert_cmpint(got->has_general_profit, ==, expected->has_general_profit);
        g_assert_cmpuint(got->ksm_zero_pages, ==, expected->ksm_zero_pages);
}

static void
test_read_sample(Fixture *f, gconstpointer data)
{
        const KernelCase *c = data;
        g_autoptr(GError) error = NULL;
        g_autofree char *no_ksmd = NULL;
        gint64 before = g_get_monotonic_time();
        VtKsmSample sample;

        g_assert_true(vt_ksm_sysfs_read_sample(f->sysfs, &sample, &error));
        g_assert_no_error(error);
        assert_sample_equal(&sample, &c->sample);
        g_assert_cmpint(sample.time_us, >=, before);
        g_assert_cmpint(sample.time_us, <=, g_get_monotonic_time());
        /* ksmd is pid 37 in the fake /proc: 1234 + 5678 ticks. */
        g_assert_cmpint(sample.ksmd_cpu_us, ==,
                        vt_ksm_proc_ticks_to_us(1234 + 5678, sysconf(_SC_CLK_TCK)));
        /* The pid is remembered. */
        g_assert_true(vt_ksm_sysfs_read_sample(f->sysfs, &sample, &error));
        g_assert_cmpint(sample.ksmd_cpu_us, >, 0);

        /* Without ksmd (a pid namespace that hides it), the CPU time is unknown. */
        no_ksmd = g_test_build_filename(G_TEST_DIST, "data", "ksm", "proc", "tree-no-ksmd", NULL);
        vt_ksm_sysfs_set_proc_root(f->sysfs, no_ksmd);
        g_assert_true(vt_ksm_sysfs_read_sample(f->sysfs, &sample, &error));
        g_assert_no_error(error);
        g_assert_cmpint(sample.ksmd_cpu_us, ==, -1);
        assert_sample_equal(&sample, &c->sample);

        /* A counter every kernel has that does not parse fails the sample. */
        fixture_set_file(f, "pages_sharing", "lots\n");
        sample.run = 77;
        g_assert_false(vt_ksm_sysfs_read_sample(f->sysfs, &sample, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "'pages_sharing'"));
        g_assert_cmpuint(sample.run, ==, 77);
}

static void
test_read(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *mode = NULL;
        g_autofree char *run = NULL;
        guint64 u = 0;
        gint64 i = 0;

        g_assert_true(vt_ksm_sysfs_read_u64(f->sysfs, "pages_sharing", &u, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(u, ==, 30114);
        g_assert_true(vt_ksm_sysfs_read_i64(f->sysfs, "general_profit", &i, &error));
        g_assert_no_error(error);
        g_assert_cmpint(i, ==, 116027392);

        /* "[none] scan-time" reads as the selected word. */
        assert_file(f, "advisor_mode", "[none] scan-time");
        mode = vt_ksm_sysfs_read_string(f->sysfs, "advisor_mode", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(mode, ==, "none");
        fixture_set_file(f, "advisor_mode", "none [scan-time]\n");
        g_clear_pointer(&mode, g_free);
        mode = vt_ksm_sysfs_read_string(f->sysfs, "advisor_mode", &error);
        g_assert_cmpstr(mode, ==, "scan-time");
        run = vt_ksm_sysfs_read_string(f->sysfs, "run", &error);
        g_assert_cmpstr(run, ==, "1");

        /* general_profit goes negative when rmap_items cost more than merging saves. */
        fixture_set_file(f, "general_profit", "-8388608\n");
        g_assert_true(vt_ksm_sysfs_read_i64(f->sysfs, "general_profit", &i, &error));
        g_assert_cmpint(i, ==, -8388608);
        u = 5;
        g_assert_false(vt_ksm_sysfs_read_u64(f->sysfs, "general_profit", &u, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
        g_assert_cmpstr(error->message, ==,
                        "KSM 'general_profit' reads '-8388608', not an unsigned number");
        g_assert_cmpuint(u, ==, 5);
        g_clear_error(&error);

        g_assert_false(vt_ksm_sysfs_read_u64(f->sysfs, "advisor_mode", &u, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
        g_clear_error(&error);

        g_assert_false(vt_ksm_sysfs_read_u64(f->sysfs, "no_such_knob", &u, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED);
        g_assert_cmpstr(error->message, ==, "this kernel has no KSM 'no_such_knob'");
        g_clear_error(&error);

        /* A knob that cannot be read names itself and the errno. */
        fixture_break_knob(f, "full_scans", "/nonexistent");
        g_assert_false(vt_ksm_sysfs_read_u64(f->sysfs, "full_scans", &u, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_FAILED);
        g_assert_cmpstr(error->message, ==,
                        "cannot read KSM 'full_scans': No such file or directory");
}

static void
test_read_old_kernel(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        char *mode;
        gint64 i = 7;

        mode = vt_ksm_sysfs_read_string(f->sysfs, "advisor_mode", &error);
        g_assert_null(mode);
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED);
        g_clear_error(&error);
        g_assert_false(vt_ksm_sysfs_read_i64(f->sysfs, "general_profit", &i, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED);
        g_assert_cmpint(i, ==, 7);
}

static void
test_write(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *mode = NULL;

        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "pages_to_scan", 1250, &error));
        g_assert_no_error(error);
        assert_file(f, "pages_to_scan", "1250");
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "pages_to_scan", G_MAXUINT, &error));
        assert_file(f, "pages_to_scan", "4294967295");
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "sleep_millisecs", 0, &error));
        g_assert_true(vt_ksm_sysfs_write_string(f->sysfs, "run", "2", &error));
        g_assert_no_error(error);
        assert_file(f, "run", "2");
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "advisor_max_cpu", 100, &error));
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "advisor_target_scan_time", 1, &error));
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "smart_scan", 0, &error));
        /* Merged pages do not stop a write of the value it already has. */
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "max_page_sharing", 256, &error));
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "merge_across_nodes", 1, &error));
        g_assert_no_error(error);

        g_assert_true(vt_ksm_sysfs_write_string(f->sysfs, "advisor_mode", "scan-time", &error));
        g_assert_no_error(error);
        mode = vt_ksm_sysfs_read_string(f->sysfs, "advisor_mode", &error);
        g_assert_cmpstr(mode, ==, "scan-time");

        /* With nothing merged, max_page_sharing may change. */
        fixture_set_file(f, "pages_shared", "0\n");
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "max_page_sharing", 1024, &error));
        g_assert_no_error(error);
        assert_file(f, "max_page_sharing", "1024");
}

/* A write refused before it reaches the kernel: the file stays as it was. */
typedef struct {
        const char *knob;
        const char *value;
        gboolean as_number;
        gint code;
        const char *message;
} RefusedCase;

static const RefusedCase refused_cases[] = {
    {"pages_to_scan", "99999999999", TRUE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'pages_to_scan' to 99999999999: out of range 0..4294967295"},
    {"sleep_millisecs", "4294967296", TRUE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'sleep_millisecs' to 4294967296: out of range 0..4294967295"},
    {"run", "3", TRUE, VT_KSM_ERROR_INVALID, "cannot set KSM 'run' to 3: out of range 0..2"},
    {"max_page_sharing", "1", TRUE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'max_page_sharing' to 1: out of range 2..2147483647"},
    {"merge_across_nodes", "2", TRUE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'merge_across_nodes' to 2: out of range 0..1"},
    {"use_zero_pages", "2", FALSE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'use_zero_pages' to 2: out of range 0..1"},
    {"advisor_max_cpu", "0", TRUE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'advisor_max_cpu' to 0: out of range 1..100"},
    {"advisor_max_cpu", "101", TRUE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'advisor_max_cpu' to 101: out of range 1..100"},
    {"advisor_target_scan_time", "0", TRUE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'advisor_target_scan_time' to 0: out of range 1..18446744073709551615"},
    {"advisor_min_pages_to_scan", "0", TRUE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'advisor_min_pages_to_scan' to 0: out of range 1..4294967295"},
    {"pages_sharing", "5", TRUE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'pages_sharing' to 5: it is a read-only counter"},
    {"general_profit", "0", FALSE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'general_profit' to 0: it is a read-only counter"},
    {"no_such_knob", "1", TRUE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'no_such_knob' to 1: not a knob vmtide knows"},
    {"advisor_mode", "fast", FALSE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'advisor_mode' to 'fast': it takes one of none, scan-time"},
    {"advisor_mode", "1", TRUE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'advisor_mode' to 1: it takes a word, not a number"},
    {"pages_to_scan", "12abc", FALSE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'pages_to_scan' to '12abc': not a number"},
    {"pages_to_scan", "-1", FALSE, VT_KSM_ERROR_INVALID,
     "cannot set KSM 'pages_to_scan' to '-1': not a number"},
    /* 2310 pages are merged in the 6.18 tree. */
    {"merge_across_nodes", "0", TRUE, VT_KSM_ERROR_BUSY,
     "cannot set KSM 'merge_across_nodes' to 0: 2310 pages are merged (unmerge with run=2 "
     "first)"},
    {"max_page_sharing", "512", TRUE, VT_KSM_ERROR_BUSY,
     "cannot set KSM 'max_page_sharing' to 512: 2310 pages are merged (unmerge with run=2 "
     "first)"},
};

static void
test_write_refused(Fixture *f, gconstpointer data)
{
        const char *const *knobs = vt_ksm_sysfs_get_knobs(f->sysfs);
        g_autoptr(GPtrArray) before = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; knobs[i] != NULL; i++)
                g_ptr_array_add(before, fixture_file(f, knobs[i]));

        for (guint i = 0; i < G_N_ELEMENTS(refused_cases); i++) {
                const RefusedCase *c = &refused_cases[i];
                g_autoptr(GError) error = NULL;
                gboolean ok;

                if (c->as_number)
                        ok = vt_ksm_sysfs_write_u64(f->sysfs, c->knob,
                                                    g_ascii_strtoull(c->value, NULL, 10), &error);
                else
                        ok = vt_ksm_sysfs_write_string(f->sysfs, c->knob, c->value, &error);
                g_assert_false(ok);
                g_assert_error(error, VT_KSM_ERROR, c->code);
                g_assert_cmpstr(error->message, ==, c->message);
        }
        for (guint i = 0; knobs[i] != NULL; i++) {
                g_autofree char *after = fixture_file(f, knobs[i]);

                g_assert_cmpstr(after, ==, g_ptr_array_index(before, i));
        }
}

static void
test_write_state(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        /* The scan-time advisor owns pages_to_scan (the kernel says EINVAL). */
        fixture_set_file(f, "advisor_mode", "none [scan-time]\n");
        g_assert_false(vt_ksm_sysfs_write_u64(f->sysfs, "pages_to_scan", 500, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_BUSY);
        g_assert_cmpstr(error->message, ==,
                        "cannot set KSM 'pages_to_scan' to 500: advisor_mode 'scan-time' sets it");
        assert_file(f, "pages_to_scan", "1000");
}

static void
test_write_old_kernel(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        g_assert_false(vt_ksm_sysfs_write_u64(f->sysfs, "smart_scan", 1, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED);
        g_assert_cmpstr(error->message, ==,
                        "cannot set KSM 'smart_scan' to 1: this kernel has no such knob");
        g_clear_error(&error);
        g_assert_false(vt_ksm_sysfs_write_string(f->sysfs, "advisor_mode", "scan-time", &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED);
        g_clear_error(&error);
        /* Without an advisor, pages_to_scan is always writable. */
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "pages_to_scan", 64, &error));
        g_assert_no_error(error);
}

static void
test_write_kernel_refuses(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        /* The write itself fails: the errno is in the message. */
        fixture_break_knob(f, "pages_to_scan", NULL);
        g_assert_false(vt_ksm_sysfs_write_u64(f->sysfs, "pages_to_scan", 500, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_FAILED);
        g_assert_cmpstr(error->message, ==,
                        "cannot set KSM 'pages_to_scan' to 500: Is a directory");
        g_clear_error(&error);

        fixture_break_knob(f, "sleep_millisecs", "/dev/full");
        g_assert_false(vt_ksm_sysfs_write_u64(f->sysfs, "sleep_millisecs", 10, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_FAILED);
        g_assert_cmpstr(error->message, ==,
                        "cannot set KSM 'sleep_millisecs' to 10: No space left on device");
        g_clear_error(&error);

        /* The write is taken but not applied: the read-back catches it. */
        fixture_break_knob(f, "use_zero_pages", "/dev/null");
        g_assert_false(vt_ksm_sysfs_write_u64(f->sysfs, "use_zero_pages", 1, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_MISMATCH);
        g_assert_true(g_str_has_prefix(error->message,
                                       "cannot set KSM 'use_zero_pages' to 1: reading it back"));
        g_clear_error(&error);

        fixture_break_knob(f, "advisor_mode", "/dev/null");
        g_assert_false(vt_ksm_sysfs_write_string(f->sysfs, "advisor_mode", "none", &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_MISMATCH);
        g_assert_cmpstr(error->message, ==,
                        "cannot set KSM 'advisor_mode' to none: it reads back ''");
}

static void
set_old_mtime(Fixture *f, const char *knob)
{
        g_autofree char *path = g_build_filename(f->root, knob, NULL);
        struct utimbuf times = {.actime = OLD_MTIME, .modtime = OLD_MTIME};

        g_assert_cmpint(utime(path, &times), ==, 0);
}

static time_t
get_mtime(Fixture *f, const char *knob)
{
        g_autofree char *path = g_build_filename(f->root, knob, NULL);
        struct stat st;

        g_assert_cmpint(stat(path, &st), ==, 0);
        return st.st_mtime;
}

static void
test_save_restore(Fixture *f, gconstpointer data)
{
        const KernelCase *c = data;
        const char *const *knobs = vt_ksm_sysfs_get_knobs(f->sysfs);
        g_autoptr(GPtrArray) before = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(VtKsmSysfsSettings) settings = NULL;
        g_autoptr(GError) error = NULL;

        for (guint i = 0; knobs[i] != NULL; i++)
                g_ptr_array_add(before, fixture_file(f, knobs[i]));
        settings = vt_ksm_sysfs_save(f->sysfs, &error);
        g_assert_no_error(error);
        g_assert_nonnull(settings);
        g_assert_cmpstr(vt_ksm_sysfs_settings_lookup(settings, "run"), ==,
                        c->sample.run == 1 ? "1" : "0");
        g_assert_null(vt_ksm_sysfs_settings_lookup(settings, "pages_sharing"));
        g_assert_cmpstr(vt_ksm_sysfs_settings_lookup(settings, "advisor_mode"), ==,
                        c->is_6_18 ? "none" : NULL);

        /* A tuner's changes... */
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "run", c->sample.run == 1 ? 0 : 1, &error));
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "pages_to_scan", 4000, &error));
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "sleep_millisecs", 50, &error));
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "use_zero_pages", 1, &error));
        if (c->is_6_18) {
                g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "advisor_max_cpu", 20, &error));
                g_assert_true(
                    vt_ksm_sysfs_write_string(f->sysfs, "advisor_mode", "scan-time", &error));
        }
        g_assert_no_error(error);

        /* ...undone, touching only what changed. */
        set_old_mtime(f, "max_page_sharing");
        set_old_mtime(f, "merge_across_nodes");
        set_old_mtime(f, "stable_node_chains_prune_millisecs");
        g_assert_true(vt_ksm_sysfs_restore(f->sysfs, settings, &error));
        g_assert_no_error(error);
        g_assert_cmpint(get_mtime(f, "max_page_sharing"), ==, OLD_MTIME);
        g_assert_cmpint(get_mtime(f, "merge_across_nodes"), ==, OLD_MTIME);
        g_assert_cmpint(get_mtime(f, "stable_node_chains_prune_millisecs"), ==, OLD_MTIME);

        for (guint i = 0; knobs[i] != NULL; i++) {
                g_autofree char *after = fixture_file(f, knobs[i]);

                /* The fake file now holds the word written, the kernel would say "[none] ..." */
                if (g_str_equal(knobs[i], "advisor_mode"))
                        g_assert_cmpstr(after, ==, "none");
                else
                        g_assert_cmpstr(after, ==, g_ptr_array_index(before, i));
        }

        /* Restoring what is already there writes nothing. */
        set_old_mtime(f, "run");
        set_old_mtime(f, "pages_to_scan");
        g_assert_true(vt_ksm_sysfs_restore(f->sysfs, settings, &error));
        g_assert_cmpint(get_mtime(f, "run"), ==, OLD_MTIME);
        g_assert_cmpint(get_mtime(f, "pages_to_scan"), ==, OLD_MTIME);
}

static void
test_restore_advisor(Fixture *f, gconstpointer data)
{
        g_autoptr(VtKsmSysfsSettings) settings = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *mode = NULL;

        /* Saved under the advisor: pages_to_scan is its business, not restore's. */
        fixture_set_file(f, "advisor_mode", "none [scan-time]\n");
        settings = vt_ksm_sysfs_save(f->sysfs, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(vt_ksm_sysfs_settings_lookup(settings, "advisor_mode"), ==, "scan-time");

        g_assert_true(vt_ksm_sysfs_write_string(f->sysfs, "advisor_mode", "none", &error));
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "pages_to_scan", 5, &error));
        g_assert_no_error(error);
        g_assert_true(vt_ksm_sysfs_restore(f->sysfs, settings, &error));
        g_assert_no_error(error);
        mode = vt_ksm_sysfs_read_string(f->sysfs, "advisor_mode", &error);
        g_assert_cmpstr(mode, ==, "scan-time");
        assert_file(f, "pages_to_scan", "5");
}

static void
test_restore_partial(Fixture *f, gconstpointer data)
{
        g_autoptr(VtKsmSysfsSettings) settings = NULL;
        g_autoptr(GError) error = NULL;

        settings = vt_ksm_sysfs_save(f->sysfs, &error);
        g_assert_no_error(error);
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "sleep_millisecs", 50, &error));
        g_assert_true(vt_ksm_sysfs_write_u64(f->sysfs, "run", 0, &error));
        g_assert_no_error(error);

        /* One knob fails; the others, run included, are still restored. */
        fixture_break_knob(f, "sleep_millisecs", NULL);
        fixture_set_file(f, "pages_shared", "12\n");
        fixture_set_file(f, "max_page_sharing", "300\n");
        g_assert_false(vt_ksm_sysfs_restore(f->sysfs, settings, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "'sleep_millisecs'"));
        g_assert_nonnull(strstr(error->message, "Is a directory"));
        g_assert_nonnull(strstr(error->message, "cannot set KSM 'max_page_sharing' to 256: 12 "
                                                "pages are merged"));
        assert_file(f, "run", "1");
}

/* Rates between two samples: each case, and whether they are consistent. */
typedef struct {
        const char *name;
        VtKsmSample before;
        VtKsmSample after;
        gboolean ok;
        VtKsmRates rates;
} RatesCase;

#define PAGE 4096

static const RatesCase rates_cases[] = {
    {"normal",
     {.time_us = 1000000,
      .run = 1,
      .pages_sharing = 1000,
      .full_scans = 1,
      .pages_scanned = 10000,
      .has_pages_scanned = TRUE,
      .ksmd_cpu_us = 100000},
     {.time_us = 11000000,
      .run = 1,
      .pages_sharing = 3560,
      .full_scans = 2,
      .pages_scanned = 110000,
      .has_pages_scanned = TRUE,
      .ksmd_cpu_us = 600000},
     TRUE,
     {.interval_us = 10000000,
      .saved_bytes = 3560 * PAGE,
      .saved_per_s = 2560.0 * PAGE / 10,
      .scanned_per_s = 10000,
      .ksmd_cpu_share = 0.05,
      .yield_bytes_per_cpu_s = 2560.0 * PAGE / 0.5}},
    {"pages-broken",
     {.time_us = 0, .pages_sharing = 5000, .ksmd_cpu_us = 0},
     {.time_us = 2000000, .pages_sharing = 4000, .ksmd_cpu_us = 200000},
     TRUE,
     {.interval_us = 2000000,
      .saved_bytes = 4000 * PAGE,
      .saved_per_s = -1000.0 * PAGE / 2,
      .scanned_per_s = 0,
      .ksmd_cpu_share = 0.1,
      .yield_bytes_per_cpu_s = -1000.0 * PAGE / 0.2}},
    /* Before 6.7: the rate comes from the knobs ksmd ran with. */
    {"scan-rate-from-knobs",
     {.time_us = 0, .run = 0, .pages_to_scan = 100, .sleep_millisecs = 20},
     {.time_us = 1000000, .run = 1, .pages_to_scan = 1000, .sleep_millisecs = 10},
     TRUE,
     {.interval_us = 1000000, .scanned_per_s = 100000}},
    {"scan-rate-sleep-zero",
     {.time_us = 0},
     {.time_us = 1000000, .run = 1, .pages_to_scan = 64, .sleep_millisecs = 0},
     TRUE,
     {.interval_us = 1000000, .scanned_per_s = 64000}},
    {"scan-rate-stopped",
     {.time_us = 0},
     {.time_us = 1000000, .run = 0, .pages_to_scan = 1000, .sleep_millisecs = 10},
     TRUE,
     {.interval_us = 1000000}},
    {"scan-rate-unmerging",
     {.time_us = 0},
     {.time_us = 1000000, .run = 2, .pages_to_scan = 1000, .sleep_millisecs = 10},
     TRUE,
     {.interval_us = 1000000}},
    {"ksmd-unknown",
     {.time_us = 0, .pages_sharing = 0, .ksmd_cpu_us = 5000},
     {.time_us = 1000000, .pages_sharing = 10, .ksmd_cpu_us = -1},
     TRUE,
     {.interval_us = 1000000,
      .saved_bytes = 10 * PAGE,
      .saved_per_s = 10.0 * PAGE,
      .ksmd_cpu_share = -1}},
    {"ksmd-unknown-before",
     {.time_us = 0, .ksmd_cpu_us = -1},
     {.time_us = 1000000, .ksmd_cpu_us = 5000},
     TRUE,
     {.interval_us = 1000000, .ksmd_cpu_share = -1}},
    {"ksmd-idle",
     {.time_us = 0, .pages_sharing = 0, .ksmd_cpu_us = 5000},
     {.time_us = 1000000, .pages_sharing = 10, .ksmd_cpu_us = 5000},
     TRUE,
     {.interval_us = 1000000,
      .saved_bytes = 10 * PAGE,
      .saved_per_s = 10.0 * PAGE,
      .ksmd_cpu_share = 0,
      .yield_bytes_per_cpu_s = 0}},
    {"zero-interval", {.time_us = 5000000}, {.time_us = 5000000}, FALSE, {0}},
    {"swapped", {.time_us = 6000000}, {.time_us = 5000000}, FALSE, {0}},
    {"full-scans-backwards",
     {.time_us = 0, .full_scans = 9},
     {.time_us = 1000000, .full_scans = 8},
     FALSE,
     {0}},
    {"pages-scanned-backwards",
     {.time_us = 0, .pages_scanned = 900, .has_pages_scanned = TRUE},
     {.time_us = 1000000, .pages_scanned = 800, .has_pages_scanned = TRUE},
     FALSE,
     {0}},
    {"ksmd-cpu-backwards",
     {.time_us = 0, .ksmd_cpu_us = 900},
     {.time_us = 1000000, .ksmd_cpu_us = 800},
     FALSE,
     {0}},
};

static void
test_rates(gconstpointer data)
{
        const RatesCase *c = data;
        VtKsmRates rates;

        memset(&rates, 0x5a, sizeof(rates));
        if (!c->ok) {
                VtKsmRates untouched;

                memset(&untouched, 0x5a, sizeof(untouched));
                g_assert_false(vt_ksm_rates_compute(&c->before, &c->after, PAGE, &rates));
                g_assert_cmpmem(&rates, sizeof(rates), &untouched, sizeof(untouched));
                return;
        }
        g_assert_true(vt_ksm_rates_compute(&c->before, &c->after, PAGE, &rates));
        g_assert_cmpint(rates.interval_us, ==, c->rates.interval_us);
        g_assert_cmpuint(rates.saved_bytes, ==, c->rates.saved_bytes);
        g_assert_cmpfloat_with_epsilon(rates.saved_per_s, c->rates.saved_per_s, 1e-6);
        g_assert_cmpfloat_with_epsilon(rates.scanned_per_s, c->rates.scanned_per_s, 1e-6);
        g_assert_cmpfloat_with_epsilon(rates.ksmd_cpu_share, c->rates.ksmd_cpu_share, 1e-9);
        g_assert_cmpfloat_with_epsilon(rates.yield_bytes_per_cpu_s, c->rates.yield_bytes_per_cpu_s,
                                       1e-3);
}

/* Read-only: this host's KSM, and ksmd in its /proc. Writes nothing. */
static void
test_real_host(void)
{
        g_autoptr(VtKsmSysfs) sysfs = NULL;
        g_autoptr(VtKsmSysfsSettings) settings = NULL;
        g_autoptr(GError) error = NULL;
        VtKsmSample sample;
        VtKsmProcStat stat;
        pid_t ksmd = 0;

        if (!g_file_test(VT_KSM_SYSFS_ROOT, G_FILE_TEST_IS_DIR)) {
                g_test_skip("this kernel has no KSM (" VT_KSM_SYSFS_ROOT ")");
                return;
        }
        sysfs = vt_ksm_sysfs_new(NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(vt_ksm_sysfs_get_root(sysfs), ==, VT_KSM_SYSFS_ROOT);
        for (guint i = 0; classic_knobs[i] != NULL; i++) {
                if (!g_str_equal(classic_knobs[i], "merge_across_nodes"))
                        g_assert_true(vt_ksm_sysfs_has(sysfs, classic_knobs[i]));
        }
        g_assert_true(vt_ksm_sysfs_read_sample(sysfs, &sample, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(sample.run, <=, 2);
        g_test_message("run=%u pages_to_scan=%" G_GUINT64_FORMAT " pages_sharing=%" G_GUINT64_FORMAT
                       " ksmd_cpu_us=%" G_GINT64_FORMAT,
                       sample.run, sample.pages_to_scan, sample.pages_sharing, sample.ksmd_cpu_us);

        if (vt_ksm_proc_find_ksmd(NULL, &ksmd, &error)) {
                g_assert_cmpint(ksmd, >, 0);
                g_assert_cmpint(sample.ksmd_cpu_us, >=, 0);
        } else {
                /* A pid namespace hides kernel threads. */
                g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_FOUND);
                g_assert_cmpint(sample.ksmd_cpu_us, ==, -1);
                g_clear_error(&error);
        }

        settings = vt_ksm_sysfs_save(sysfs, &error);
        g_assert_no_error(error);
        g_assert_nonnull(vt_ksm_sysfs_settings_lookup(settings, "pages_to_scan"));

        if (!vt_ksm_proc_read_stat(NULL, getpid(), &stat, &error)) {
                g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED);
                g_clear_error(&error);
        }
}

static void
add_fixture_test(const char *name, const KernelCase *c,
                 void (*func)(Fixture *f, gconstpointer data))
{
        g_autofree char *path = g_strdup_printf("/ksm/sysfs/%s/%s", name, c->kernel);

        g_test_add(path, Fixture, c, fixture_setup, func, fixture_teardown);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/ksm/sysfs/new-errors", test_new_errors);
        for (guint i = 0; i < G_N_ELEMENTS(kernel_cases); i++) {
                const KernelCase *c = &kernel_cases[i];

                add_fixture_test("knobs", c, test_knobs);
                add_fixture_test("read-sample", c, test_read_sample);
                add_fixture_test("save-restore", c, test_save_restore);
                if (c->is_6_18) {
                        add_fixture_test("read", c, test_read);
                        add_fixture_test("write", c, test_write);
                        add_fixture_test("write-refused", c, test_write_refused);
                        add_fixture_test("write-state", c, test_write_state);
                        add_fixture_test("write-kernel-refuses", c, test_write_kernel_refuses);
                        add_fixture_test("restore-advisor", c, test_restore_advisor);
                        add_fixture_test("restore-partial", c, test_restore_partial);
                } else {
                        add_fixture_test("read-old-kernel", c, test_read_old_kernel);
                        add_fixture_test("write-old-kernel", c, test_write_old_kernel);
                }
        }
        for (guint i = 0; i < G_N_ELEMENTS(rates_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/ksm/sample/rates/%s", rates_cases[i].name);

                g_test_add_data_func(path, &rates_cases[i], test_rates);
        }
        g_test_add_func("/ksm/sysfs/real-host", test_real_host);
        return g_test_run();
}
