/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of ksm-proc.c: ksm_stat and stat parsers, ksmd lookup, fake /proc trees. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ksm/ksm-proc.h"
#include "tests/vt-test-util.h"

static char *data_path(const char *first, ...) G_GNUC_NULL_TERMINATED;

/* tests/data/ksm/proc/FIRST/... */
static char *
data_path(const char *first, ...)
{
        g_autoptr(GPtrArray) parts = g_ptr_array_new();
        g_autofree char *relative = NULL;
        const char *part;
        va_list ap;

        g_ptr_array_add(parts, (gpointer)first);
        va_start(ap, first);
        while ((part = va_arg(ap, const char *)) != NULL)
                g_ptr_array_add(parts, (gpointer)part);
        va_end(ap);
        g_ptr_array_add(parts, NULL);
        relative = g_build_filenamev((char **)parts->pdata);
        return g_test_build_filename(G_TEST_DIST, "data", "ksm", "proc", relative, NULL);
}

static char *
data_read(const char *dir, const char *name)
{
        g_autofree char *path = data_path(dir, name, NULL);
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        g_file_get_contents(path, &text, NULL, &error);
        g_assert_no_error(error);
        return text;
}

/* ksm_stat of each kernel generation, and hostile variants. */
typedef struct {
        const char *file;
        VtKsmProcStat expected;
} KsmStatCase;

static const KsmStatCase ksm_stat_cases[] = {
    {"linux-6.1", {.rmap_items = 131031, .has_rmap_items = TRUE}},
    {"linux-6.4",
     {.rmap_items = 131031,
      .has_rmap_items = TRUE,
      .merging_pages = 10038,
      .has_merging_pages = TRUE,
      .process_profit = 32730112,
      .has_process_profit = TRUE}},
    {"linux-6.6",
     {.rmap_items = 131031,
      .has_rmap_items = TRUE,
      .zero_pages = 40,
      .has_zero_pages = TRUE,
      .merging_pages = 10038,
      .has_merging_pages = TRUE,
      .process_profit = 32893952,
      .has_process_profit = TRUE}},
    {"linux-6.18",
     {.rmap_items = 131031,
      .has_rmap_items = TRUE,
      .zero_pages = 40,
      .has_zero_pages = TRUE,
      .merging_pages = 10038,
      .has_merging_pages = TRUE,
      .process_profit = 32893952,
      .has_process_profit = TRUE,
      .merge_any = FALSE,
      .has_merge_any = TRUE,
      .mergeable = TRUE,
      .has_mergeable = TRUE}},
    {"linux-6.18-idle",
     {.has_rmap_items = TRUE,
      .has_zero_pages = TRUE,
      .has_merging_pages = TRUE,
      .has_process_profit = TRUE,
      .has_merge_any = TRUE,
      .has_mergeable = TRUE}},
    /* A kernel thread has no mm: the file is empty. */
    {"kernel-thread", {0}},
    {"negative-profit-and-unknown-lines",
     {.rmap_items = 4000,
      .has_rmap_items = TRUE,
      .merging_pages = 12,
      .has_merging_pages = TRUE,
      .process_profit = -207872,
      .has_process_profit = TRUE,
      .merge_any = TRUE,
      .has_merge_any = TRUE,
      .mergeable = TRUE,
      .has_mergeable = TRUE}},
};

static void
assert_proc_stat_equal(const VtKsmProcStat *got, const VtKsmProcStat *expected)
{
        g_assert_cmpuint(got->rmap_items, ==, expected->rmap_items);
        g_assert_cmpint(got->has_rmap_items, ==, expected->has_rmap_items);
        g_assert_cmpuint(got->zero_pages, ==, expected->zero_pages);
        g_assert_cmpint(got->has_zero_pages, ==, expected->has_zero_pages);
        g_assert_cmpuint(got->merging_pages, ==, expected->merging_pages);
        g_assert_cmpint(got->has_merging_pages, ==, expected->has_merging_pages);
        g_assert_cmpint(got->process_profit, ==, expected->process_profit);
        g_assert_cmpint(got->has_process_profit, ==, expected->has_process_profit);
        g_assert_cmpint(got->merge_any, ==, expected->merge_any);
        g_assert_cmpint(got->has_merge_any, ==, expected->has_merge_any);
        g_assert_cmpint(got->mergeable, ==, expected->mergeable);
        g_assert_cmpint(got->has_mergeable, ==, expected->has_mergeable);
}

static void
test_ksm_stat_parse(gconstpointer data)
{
        const KsmStatCase *c = data;
        g_autofree char *text = data_read("ksm_stat", c->file);
        g_autoptr(GError) error = NULL;
        VtKsmProcStat stat;

        memset(&stat, 0xa5, sizeof(stat));
        g_assert_true(vt_ksm_proc_stat_parse(text, &stat, &error));
        g_assert_no_error(error);
        assert_proc_stat_equal(&stat, &c->expected);
}

static void
test_ksm_stat_parse_errors(void)
{
        static const struct {
                const char *file;
                const char *message;
        } cases[] = {
            {"bad-number", "ksm_stat: 'ksm_rmap_items' has an invalid value 'twelve'"},
            {"bad-yes-no", "ksm_stat: 'ksm_mergeable' has an invalid value 'maybe'"},
            {"negative-count", "ksm_stat: 'ksm_merging_pages' has an invalid value '-5'"},
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *text = data_read("ksm_stat", cases[i].file);
                g_autoptr(GError) error = NULL;
                VtKsmProcStat stat = {.rmap_items = 77};

                g_assert_false(vt_ksm_proc_stat_parse(text, &stat, &error));
                g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
                g_assert_cmpstr(error->message, ==, cases[i].message);
                /* ret_ untouched on error */
                g_assert_cmpuint(stat.rmap_items, ==, 77);
        }
}

static void
test_ksm_stat_parse_strings(void)
{
        g_autoptr(GError) error = NULL;
        VtKsmProcStat stat;

        /* No trailing newline, tabs, CRs, a key without a value that is unknown. */
        g_assert_true(vt_ksm_proc_stat_parse("ksm_rmap_items\t12\r\nlonely\nksm_process_profit -1",
                                             &stat, &error));
        g_assert_no_error(error);
        g_assert_true(stat.has_rmap_items);
        g_assert_cmpuint(stat.rmap_items, ==, 12);
        g_assert_cmpint(stat.process_profit, ==, -1);
        g_assert_false(stat.has_merging_pages);

        /* A known key without a value is malformed. */
        g_assert_false(vt_ksm_proc_stat_parse("ksm_merging_pages\n", &stat, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
        g_clear_error(&error);

        /* Out of range for 64 bits. */
        g_assert_false(
            vt_ksm_proc_stat_parse("ksm_rmap_items 18446744073709551616\n", &stat, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
        g_clear_error(&error);

        /* ksm_merging_pages on its own (5.19+). */
        stat = (VtKsmProcStat){.rmap_items = 3, .has_rmap_items = TRUE};
        g_assert_true(vt_ksm_proc_merging_pages_parse("2210\n", &stat, &error));
        g_assert_no_error(error);
        g_assert_true(stat.has_merging_pages);
        g_assert_cmpuint(stat.merging_pages, ==, 2210);
        g_assert_cmpuint(stat.rmap_items, ==, 3);
        g_assert_false(vt_ksm_proc_merging_pages_parse("", &stat, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
        g_clear_error(&error);
        g_assert_false(vt_ksm_proc_merging_pages_parse("12 13\n", &stat, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
}

/* /proc/PID/stat lines. */
typedef struct {
        const char *file;
        gboolean ok;
        pid_t pid;
        const char *comm;
        char state;
        pid_t ppid;
        guint64 flags;
        guint64 utime_ticks;
        guint64 stime_ticks;
        gboolean is_ksmd;
        const char *message;
} PidStatCase;

static const PidStatCase pid_stat_cases[] = {
    {"ksmd", TRUE, 37, "ksmd", 'S', 2, 2097216, 1234, 5678, TRUE, NULL},
    {"kthreadd", TRUE, 2, "kthreadd", 'S', 0, 2129984, 0, 0, FALSE, NULL},
    {"qemu", TRUE, 6350, "qemu-system-x86", 'S', 6344, 4194560, 51234, 8765, FALSE, NULL},
    /* comm is "q) S 1 2 (emu": only the last ')' ends it. */
    {"nasty-comm", TRUE, 4242, "q) S 1 2 (emu", 'R', 1, 4194304, 700, 300, FALSE, NULL},
    {"empty-comm", TRUE, 4243, "", 'S', 1, 4194304, 5, 6, FALSE, NULL},
    {"utime-overflow-sum", TRUE, 4244, "a b (c)", 'S', 1, 4194304, G_MAXUINT64, 1, FALSE, NULL},
    {"truncated", FALSE, 0, NULL, 0, 0, 0, 0, 0, FALSE, "stat of 4245: truncated after 12 fields"},
    {"no-parentheses", FALSE, 0, NULL, 0, 0, 0, 0, 0, FALSE,
     "stat: no command name in parentheses"},
    {"bad-number", FALSE, 0, NULL, 0, 0, 0, 0, 0, FALSE,
     "stat of 4247: field 14 is not a number: '1x'"},
};

static void
test_pid_stat_parse(gconstpointer data)
{
        const PidStatCase *c = data;
        g_autofree char *text = data_read("stat", c->file);
        g_autoptr(GError) error = NULL;
        VtKsmPidStat stat = {.pid = -5};

        if (!c->ok) {
                g_assert_false(vt_ksm_proc_pid_stat_parse(text, &stat, &error));
                g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
                g_assert_cmpstr(error->message, ==, c->message);
                g_assert_cmpint(stat.pid, ==, -5);
                return;
        }
        g_assert_true(vt_ksm_proc_pid_stat_parse(text, &stat, &error));
        g_assert_no_error(error);
        g_assert_cmpint(stat.pid, ==, c->pid);
        g_assert_cmpstr(stat.comm, ==, c->comm);
        g_assert_cmpint(stat.state, ==, c->state);
        g_assert_cmpint(stat.ppid, ==, c->ppid);
        g_assert_cmpuint(stat.flags, ==, c->flags);
        g_assert_cmpuint(stat.utime_ticks, ==, c->utime_ticks);
        g_assert_cmpuint(stat.stime_ticks, ==, c->stime_ticks);
        g_assert_cmpint(vt_ksm_proc_pid_stat_is_ksmd(&stat), ==, c->is_ksmd);
}

static void
test_pid_stat_parse_strings(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *long_comm = NULL;
        g_autofree char *line = NULL;
        VtKsmPidStat stat;
        static const char *const bad[] = {
            "",
            ")(",
            "0 (x) S 1 1 1 0 -1 0 0 0 0 0 1 2",
            "-3 (x) S 1",
            "abc (x) S 1 1 1 0 -1 0 0 0 0 0 1 2",
        };

        /* A comm longer than the kernel prints is cut, not overflowed. */
        long_comm = g_strnfill(200, 'k');
        line = g_strdup_printf("9 (%s) S 2 0 0 0 -1 2097216 0 0 0 0 1 2 0", long_comm);
        g_assert_true(vt_ksm_proc_pid_stat_parse(line, &stat, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(strlen(stat.comm), ==, VT_KSM_PROC_COMM_MAX);
        g_assert_cmpuint(stat.stime_ticks, ==, 2);

        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_assert_false(vt_ksm_proc_pid_stat_parse(bad[i], &stat, &error));
                g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
                g_clear_error(&error);
        }
}

static void
test_ticks_to_us(void)
{
        static const struct {
                guint64 ticks;
                glong per_s;
                gint64 us;
        } cases[] = {
            {0, 100, 0},
            {1, 100, 10000},
            {150, 100, 1500000},
            {6912, 100, 69120000},
            {7, 3, 2333333},
            {1000, 1000, 1000000},
            {5, 0, -1},
            {5, -100, -1},
            {G_MAXUINT64, 100, G_MAXINT64},
            {G_MAXUINT64, 1, G_MAXINT64},
            /* the largest tick count that still fits */
            {(guint64)(G_MAXINT64 / G_USEC_PER_SEC - 1) * 100, 100,
             (G_MAXINT64 / G_USEC_PER_SEC - 1) * G_USEC_PER_SEC},
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
                g_assert_cmpint(vt_ksm_proc_ticks_to_us(cases[i].ticks, cases[i].per_s), ==,
                                cases[i].us);
}

static void
test_find_ksmd(void)
{
        static const struct {
                const char *tree;
                pid_t pid;
                gint code;
        } cases[] = {
            /* 30 is a user process named ksmd: not it. */
            {"tree-6.18", 37, -1},
            {"tree-5.19", 37, -1},
            {"tree-5.15", 37, -1},
            {"tree-no-ksmd", 0, VT_KSM_ERROR_NOT_FOUND},
            {"no-such-tree", 0, VT_KSM_ERROR_FAILED},
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *root = data_path(cases[i].tree, NULL);
                g_autoptr(GError) error = NULL;
                pid_t pid = -9;

                if (cases[i].code < 0) {
                        g_assert_true(vt_ksm_proc_find_ksmd(root, &pid, &error));
                        g_assert_no_error(error);
                        g_assert_cmpint(pid, ==, cases[i].pid);
                } else {
                        g_assert_false(vt_ksm_proc_find_ksmd(root, &pid, &error));
                        g_assert_error(error, VT_KSM_ERROR, cases[i].code);
                        g_assert_nonnull(strstr(error->message, root));
                        g_assert_cmpint(pid, ==, -9);
                }
        }
}

static void
test_read_cpu(void)
{
        g_autofree char *root = data_path("tree-6.18", NULL);
        g_autoptr(GError) error = NULL;
        glong per_s = sysconf(_SC_CLK_TCK);
        VtKsmPidStat stat;
        gint64 cpu_us = -7;

        g_assert_cmpint(per_s, >, 0);
        g_assert_true(vt_ksm_proc_read_cpu_us(root, 37, &cpu_us, &error));
        g_assert_no_error(error);
        g_assert_cmpint(cpu_us, ==, vt_ksm_proc_ticks_to_us(1234 + 5678, per_s));

        /* Any pid: a QEMU process. */
        g_assert_true(vt_ksm_proc_read_cpu_us(root, 6350, &cpu_us, &error));
        g_assert_no_error(error);
        g_assert_cmpint(cpu_us, ==, vt_ksm_proc_ticks_to_us(51234 + 8765, per_s));

        g_assert_true(vt_ksm_proc_read_pid_stat(root, 6350, &stat, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(stat.comm, ==, "qemu-system-x86");

        cpu_us = -7;
        g_assert_false(vt_ksm_proc_read_cpu_us(root, 99999, &cpu_us, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_FOUND);
        g_assert_cmpint(cpu_us, ==, -7);
}

/* A proc tree built by the test, for the cases the shipped trees lack. */
typedef struct {
        char *root;
} TempProc;

static void
temp_proc_setup(TempProc *t, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        t->root = g_dir_make_tmp("vt-ksm-proc-XXXXXX", &error);
        g_assert_no_error(error);
}

static void
temp_proc_write(TempProc *t, pid_t pid, const char *name, const char *text)
{
        g_autofree char *dir = g_strdup_printf("%s/%d", t->root, (int)pid);
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
}

static void
temp_proc_teardown(TempProc *t, gconstpointer data)
{
        vt_test_remove_tree(t->root);
        g_free(t->root);
}

static void
test_read_stat_trees(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *root_618 = data_path("tree-6.18", NULL);
        g_autofree char *root_519 = data_path("tree-5.19", NULL);
        g_autofree char *root_515 = data_path("tree-5.15", NULL);
        VtKsmProcStat stat;

        g_assert_true(vt_ksm_proc_read_stat(root_618, 6350, &stat, &error));
        g_assert_no_error(error);
        assert_proc_stat_equal(&stat, &ksm_stat_cases[3].expected);

        /* 5.19 to 6.0: only ksm_merging_pages. */
        g_assert_true(vt_ksm_proc_read_stat(root_519, 100, &stat, &error));
        g_assert_no_error(error);
        assert_proc_stat_equal(&stat,
                               &(VtKsmProcStat){.merging_pages = 2210, .has_merging_pages = TRUE});

        /* Before 5.19: nothing per process. */
        stat.rmap_items = 99;
        g_assert_false(vt_ksm_proc_read_stat(root_515, 100, &stat, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED);
        g_assert_cmpuint(stat.rmap_items, ==, 99);
        g_clear_error(&error);

        /* A process that is gone. */
        g_assert_false(vt_ksm_proc_read_stat(root_618, 4711, &stat, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_FOUND);
}

static void
test_read_stat_fallback(TempProc *t, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *overflow = NULL;
        VtKsmProcStat stat;

        /* 6.1 to 6.3: ksm_stat without ksm_merging_pages, which has its own file. */
        temp_proc_write(t, 200, "ksm_stat", "ksm_rmap_items 500\n");
        temp_proc_write(t, 200, "ksm_merging_pages", "321\n");
        g_assert_true(vt_ksm_proc_read_stat(t->root, 200, &stat, &error));
        g_assert_no_error(error);
        assert_proc_stat_equal(&stat, &(VtKsmProcStat){.rmap_items = 500,
                                                       .has_rmap_items = TRUE,
                                                       .merging_pages = 321,
                                                       .has_merging_pages = TRUE});

        /* A malformed fallback file names its path. */
        temp_proc_write(t, 201, "ksm_merging_pages", "lots\n");
        g_assert_false(vt_ksm_proc_read_stat(t->root, 201, &stat, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "201/ksm_merging_pages"));
        g_clear_error(&error);

        /* A stat file that claims another pid. */
        temp_proc_write(t, 202, "stat", "203 (x) S 1 1 1 0 -1 0 0 0 0 0 1 2");
        g_assert_false(vt_ksm_proc_read_cpu_us(t->root, 202, &(gint64){0}, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
        g_clear_error(&error);

        /* utime + stime beyond 64 bits. */
        overflow = data_read("stat", "utime-overflow-sum");
        temp_proc_write(t, 4244, "stat", overflow);
        g_assert_false(vt_ksm_proc_read_cpu_us(t->root, 4244, &(gint64){0}, &error));
        g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID);
        g_clear_error(&error);

        /* A file larger than any stat file is refused, not read whole. */
        {
                g_autofree char *big = g_strnfill(100000, 'x');

                temp_proc_write(t, 205, "stat", big);
                g_assert_false(vt_ksm_proc_read_cpu_us(t->root, 205, &(gint64){0}, &error));
                g_assert_error(error, VT_KSM_ERROR, VT_KSM_ERROR_FAILED);
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(ksm_stat_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/ksm/proc/ksm-stat/%s", ksm_stat_cases[i].file);

                g_test_add_data_func(path, &ksm_stat_cases[i], test_ksm_stat_parse);
        }
        g_test_add_func("/ksm/proc/ksm-stat/errors", test_ksm_stat_parse_errors);
        g_test_add_func("/ksm/proc/ksm-stat/strings", test_ksm_stat_parse_strings);
        for (guint i = 0; i < G_N_ELEMENTS(pid_stat_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/ksm/proc/pid-stat/%s", pid_stat_cases[i].file);

                g_test_add_data_func(path, &pid_stat_cases[i], test_pid_stat_parse);
        }
        g_test_add_func("/ksm/proc/pid-stat/strings", test_pid_stat_parse_strings);
        g_test_add_func("/ksm/proc/ticks-to-us", test_ticks_to_us);
        g_test_add_func("/ksm/proc/find-ksmd", test_find_ksmd);
        g_test_add_func("/ksm/proc/read-cpu", test_read_cpu);
        g_test_add_func("/ksm/proc/read-stat", test_read_stat_trees);
        g_test_add("/ksm/proc/read-stat-fallback", TempProc, NULL, temp_proc_setup,
                   test_read_stat_fallback, temp_proc_teardown);
        return g_test_run();
}
