/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the host sampler (fixture /proc trees and cgroup
 * directories in tests/data/host/, the test's own RSS) and of the PSI
 * trigger: spec parsing, refusals, arming on the real
 * /proc/pressure/memory, and, as root with a memory cgroup, a firing
 * caused by making a child reclaim inside a small memory cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/magic.h>
#include <signal.h>
#include <string.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/sensing/sensing-sample.h"
#include "host/sensing/sensing-psi.h"
#include "tests/vt-test-util.h"

#define KiB (G_GUINT64_CONSTANT(1) << 10)
#define MiB (G_GUINT64_CONSTANT(1) << 20)
#define GiB (G_GUINT64_CONSTANT(1) << 30)

#define REAL_PSI "/proc/pressure/memory"

static char *
data_path(const char *name)
{
        return g_test_build_filename(G_TEST_DIST, "data", "host", name, NULL);
}

/* ---- reading /proc fixtures ---- */

static void
test_read_psi(void)
{
        g_autofree char *root = data_path("linux-6.18-swapping");
        g_autoptr(GError) error = NULL;
        VtHostSample s;

        g_assert_true(vt_host_sample_read(root, NULL, 12345, &s, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(s.mem_total, ==, G_GUINT64_CONSTANT(24684084) * KiB);
        g_assert_cmpuint(s.mem_available, ==, GiB);
        g_assert_cmpuint(s.mem_free, ==, 512 * MiB);
        g_assert_cmpuint(s.mem_cache, ==, 64 * MiB + 768 * MiB);
        g_assert_cmpuint(s.swap_total, ==, 4 * GiB);
        g_assert_cmpuint(s.swap_free, ==, 3 * GiB);
        g_assert_true(s.has_vmstat);
        g_assert_cmpuint(s.pswpin, ==, 2000);
        g_assert_cmpuint(s.pswpout, ==, 10000);
        g_assert_true(s.has_psi);
        g_assert_cmpfloat_with_epsilon(s.psi_some_avg10, 12.5, 1e-9);
        g_assert_cmpfloat_with_epsilon(s.psi_full_avg10, 3.25, 1e-9);
        g_assert_cmpuint(s.psi_some_total_us, ==, 3500000);
        g_assert_cmpuint(s.cgroup_limit, ==, 0);
        g_assert_cmpuint(s.cgroup_current, ==, 0);
        g_assert_cmpint(s.sampled_us, ==, 12345);
}

static void
test_read_idle(void)
{
        g_autofree char *root = data_path("linux-6.18");
        g_autoptr(GError) error = NULL;
        VtHostSample s;

        g_assert_true(vt_host_sample_read(root, NULL, 1, &s, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(s.mem_available, ==, G_GUINT64_CONSTANT(24324584) * KiB);
        g_assert_cmpuint(s.swap_total, ==, 0);
        g_assert_true(s.has_vmstat);
        g_assert_cmpuint(s.pswpin, ==, 0);
        g_assert_true(s.has_psi);
        g_assert_cmpfloat(s.psi_some_avg10, ==, 0.0);
        g_assert_cmpfloat(s.psi_full_avg10, ==, 0.0);
}

static void
test_read_no_psi(void)
{
        g_autofree char *root = data_path("no-psi");
        g_autoptr(GError) error = NULL;
        VtHostSample s;

        g_assert_true(vt_host_sample_read(root, NULL, 1, &s, &error));
        g_assert_no_error(error);
        g_assert_false(s.has_psi);
        g_assert_cmpfloat(s.psi_some_avg10, <, 0.0);
        g_assert_cmpfloat(s.psi_full_avg10, <, 0.0);
        g_assert_cmpuint(s.psi_some_total_us, ==, 0);
        g_assert_cmpuint(s.mem_available, ==, G_GUINT64_CONSTANT(24324584) * KiB);
}

/* Before 3.14 there is no MemAvailable: MemFree + Buffers + Cached stands in. */
static void
test_read_no_memavailable(void)
{
        g_autofree char *root = data_path("linux-3.10");
        g_autoptr(GError) error = NULL;
        VtHostSample s;

        g_assert_true(vt_host_sample_read(root, NULL, 1, &s, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(s.mem_total, ==, G_GUINT64_CONSTANT(1016860) * KiB);
        g_assert_cmpuint(s.mem_available, ==, (G_GUINT64_CONSTANT(123456) + 20480 + 307200) * KiB);
        g_assert_false(s.has_psi);
        g_assert_true(s.has_vmstat);
        g_assert_cmpuint(s.pswpin, ==, 2500);
        g_assert_cmpuint(s.pswpout, ==, 24287);
}

static void
test_read_errors(void)
{
        g_autofree char *broken = data_path("broken");
        g_autofree char *missing = data_path("no-such-root");
        g_autofree char *root = data_path("linux-6.18");
        g_autofree char *no_cgroup = data_path("cgroup/no-such-cgroup");
        g_autoptr(GError) error = NULL;
        VtHostSample s = {.mem_total = 42};

        g_assert_false(vt_host_sample_read(broken, NULL, 1, &s, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
        g_assert_nonnull(strstr(error->message, "has no MemTotal"));
        g_clear_error(&error);

        g_assert_false(vt_host_sample_read(missing, NULL, 1, &s, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
        g_assert_nonnull(strstr(error->message, "no-such-root/meminfo"));
        g_clear_error(&error);

        /* A configured cgroup that is not there fails the sample. */
        g_assert_false(vt_host_sample_read(root, no_cgroup, 1, &s, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
        g_clear_error(&error);

        /* Nothing written on failure. */
        g_assert_cmpuint(s.mem_total, ==, 42);
}

/* The real /proc: whatever this host has, the sample is consistent. */
static void
test_read_real(void)
{
        g_autoptr(GError) error = NULL;
        VtHostSample s;

        g_assert_true(vt_host_sample_read("/proc", NULL, g_get_monotonic_time(), &s, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(s.mem_total, >, 0);
        g_assert_cmpuint(s.mem_available, <=, s.mem_total);
        g_assert_cmpuint(s.mem_free, <=, s.mem_total);
        g_assert_cmpint(s.has_psi, ==, g_file_test(REAL_PSI, G_FILE_TEST_EXISTS));
}

/* ---- cgroups ---- */

typedef struct {
        const char *dir;
        gboolean ok;
        guint64 limit;
        guint64 current;
        GIOErrorEnum code;
} CgroupCase;

static const CgroupCase cgroup_cases[] = {
    {"v2-max", TRUE, 0, 123456789},
    {"v2-limit", TRUE, 8 * GiB, 4 * GiB},
    {"v1-unlimited", TRUE, 0, MiB},
    {"v1-limit", TRUE, 2 * GiB, GiB},
    {"bad-max", FALSE, .code = G_IO_ERROR_INVALID_DATA},
    {"v2-no-current", FALSE, .code = G_IO_ERROR_NOT_FOUND},
    {"no-such-cgroup", FALSE, .code = G_IO_ERROR_NOT_FOUND},
};

static void
test_cgroup(gconstpointer data)
{
        const CgroupCase *c = data;
        g_autofree char *rel = g_build_filename("cgroup", c->dir, NULL);
        g_autofree char *dir = data_path(rel);
        g_autofree char *root = data_path("linux-6.18");
        g_autoptr(GError) error = NULL;
        guint64 limit = 42, current = 42;
        VtHostSample s;

        if (!c->ok) {
                g_assert_false(vt_host_read_cgroup(dir, &limit, &current, &error));
                g_assert_error(error, G_IO_ERROR, (gint)c->code);
                g_assert_nonnull(strstr(error->message, c->dir));
                g_assert_cmpuint(limit, ==, 42);
                g_assert_cmpuint(current, ==, 42);
                return;
        }
        g_assert_true(vt_host_read_cgroup(dir, &limit, &current, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(limit, ==, c->limit);
        g_assert_cmpuint(current, ==, c->current);

        /* ... and through the sample. */
        g_assert_true(vt_host_sample_read(root, dir, 1, &s, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(s.cgroup_limit, ==, c->limit);
        g_assert_cmpuint(s.cgroup_current, ==, c->current);
}

/* ---- to the policies' inputs (pure) ---- */

static void
test_rates_fixtures(void)
{
        g_autofree char *idle = data_path("linux-6.18");
        g_autofree char *swapping = data_path("linux-6.18-swapping");
        g_autoptr(GError) error = NULL;
        VtHostSample prev, cur;
        VtBalloonHost host;

        g_assert_true(vt_host_sample_read(idle, NULL, 10 * G_USEC_PER_SEC, &prev, &error));
        g_assert_true(vt_host_sample_read(swapping, NULL, 14 * G_USEC_PER_SEC, &cur, &error));
        g_assert_no_error(error);

        vt_host_sample_to_balloon_host(&cur, &prev, 0, &host);
        g_assert_cmpuint(host.mem_total, ==, cur.mem_total);
        g_assert_cmpuint(host.mem_available, ==, GiB);
        g_assert_cmpfloat_with_epsilon(host.swap_in_per_s, 2000.0 / 4, 1e-9);
        g_assert_cmpfloat_with_epsilon(host.swap_out_per_s, 10000.0 / 4, 1e-9);
        g_assert_cmpfloat_with_epsilon(host.psi_some_avg10, 12.5, 1e-9);
        g_assert_cmpfloat_with_epsilon(host.psi_full_avg10, 3.25, 1e-9);
        g_assert_cmpuint(host.budget_limit, ==, 0);

        /* The first tick has no rates. */
        vt_host_sample_to_balloon_host(&cur, NULL, 0, &host);
        g_assert_cmpfloat(host.swap_in_per_s, ==, 0.0);
        g_assert_cmpfloat(host.swap_out_per_s, ==, 0.0);
}

typedef struct {
        const char *name;
        guint64 prev_in, prev_out, cur_in, cur_out;
        gboolean prev_vmstat, cur_vmstat;
        gint64 dt_us;
        double in_per_s, out_per_s;
} RateCase;

static const RateCase rate_cases[] = {
    {"steady", 100, 200, 300, 1200, TRUE, TRUE, 2 * G_USEC_PER_SEC, 100.0, 500.0},
    {"half-second", 0, 0, 50, 0, TRUE, TRUE, G_USEC_PER_SEC / 2, 100.0, 0.0},
    {"backwards", 500, 500, 100, 600, TRUE, TRUE, G_USEC_PER_SEC, 0.0, 100.0},
    {"same-time", 0, 0, 50, 50, TRUE, TRUE, 0, 0.0, 0.0},
    {"time-backwards", 0, 0, 50, 50, TRUE, TRUE, -G_USEC_PER_SEC, 0.0, 0.0},
    {"no-vmstat-now", 0, 0, 50, 50, TRUE, FALSE, G_USEC_PER_SEC, 0.0, 0.0},
    {"no-vmstat-before", 0, 0, 50, 50, FALSE, TRUE, G_USEC_PER_SEC, 0.0, 0.0},
};

static void
test_rates(gconstpointer data)
{
        const RateCase *c = data;
        VtHostSample prev = {.pswpin = c->prev_in,
                             .pswpout = c->prev_out,
                             .has_vmstat = c->prev_vmstat,
                             .sampled_us = 100 * G_USEC_PER_SEC};
        VtHostSample cur = {.pswpin = c->cur_in,
                            .pswpout = c->cur_out,
                            .has_vmstat = c->cur_vmstat,
                            .sampled_us = prev.sampled_us + c->dt_us};
        VtBalloonHost host;

        vt_host_sample_to_balloon_host(&cur, &prev, 0, &host);
        g_assert_cmpfloat_with_epsilon(host.swap_in_per_s, c->in_per_s, 1e-9);
        g_assert_cmpfloat_with_epsilon(host.swap_out_per_s, c->out_per_s, 1e-9);
        /* Without PSI the policy sees a negative average. */
        g_assert_cmpfloat(host.psi_some_avg10, <, 0.0);
}

typedef struct {
        const char *name;
        guint64 budget_total;
        guint64 cgroup_limit;
        guint64 expected;
} BudgetCase;

static const BudgetCase budget_cases[] = {
    {"none", 0, 0, 0},
    {"total-only", 4 * GiB, 0, 4 * GiB},
    {"cgroup-only", 0, 6 * GiB, 6 * GiB},
    {"total-smaller", 4 * GiB, 6 * GiB, 4 * GiB},
    {"cgroup-smaller", 8 * GiB, 6 * GiB, 6 * GiB},
    {"equal", 2 * GiB, 2 * GiB, 2 * GiB},
};

static void
test_budget(gconstpointer data)
{
        const BudgetCase *c = data;
        VtHostSample cur = {.mem_total = 16 * GiB, .cgroup_limit = c->cgroup_limit};
        VtBalloonHost host;

        vt_host_sample_to_balloon_host(&cur, NULL, c->budget_total, &host);
        g_assert_cmpuint(host.budget_limit, ==, c->expected);
}

static void
test_ksm_host(void)
{
        g_autofree char *swapping = data_path("linux-6.18-swapping");
        g_autofree char *no_psi = data_path("no-psi");
        g_autoptr(GError) error = NULL;
        VtHostSample s;
        VtKsmHost host;

        g_assert_true(vt_host_sample_read(swapping, NULL, 1, &s, &error));
        g_assert_no_error(error);
        vt_host_sample_to_ksm_host(&s, 8, &host);
        g_assert_cmpuint(host.mem_total, ==, s.mem_total);
        g_assert_cmpuint(host.mem_available, ==, GiB);
        g_assert_cmpuint(host.mem_free, ==, 512 * MiB + 64 * MiB + 768 * MiB);
        g_assert_cmpfloat_with_epsilon(host.psi_some_avg10, 12.5, 1e-9);
        g_assert_cmpfloat_with_epsilon(host.psi_full_avg10, 3.25, 1e-9);
        g_assert_cmpuint(host.n_cpus, ==, 8);

        /* Without PSI the tuner sees no pressure rather than a negative one. */
        g_assert_true(vt_host_sample_read(no_psi, NULL, 1, &s, &error));
        g_assert_no_error(error);
        vt_host_sample_to_ksm_host(&s, 2, &host);
        g_assert_cmpfloat(host.psi_some_avg10, ==, 0.0);
        g_assert_cmpfloat(host.psi_full_avg10, ==, 0.0);
}

/* ---- RSS ---- */

static void
test_rss_fixture(void)
{
        g_autofree char *root = data_path("linux-6.18");
        g_autoptr(GError) error = NULL;
        guint64 rss = 42;

        g_assert_true(vt_host_read_process_rss(root, 4242, &rss, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(rss, ==, 6789 * (guint64)sysconf(_SC_PAGESIZE));

        rss = 42;
        g_assert_false(vt_host_read_process_rss(root, 4243, &rss, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
        g_assert_nonnull(strstr(error->message, "4243/statm"));
        g_clear_error(&error);

        g_assert_false(vt_host_read_process_rss(root, 4244, &rss, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
        g_assert_cmpuint(rss, ==, 42);
}

/* The test's own RSS grows by what it touches. */
static void
test_rss_self(void)
{
        const gsize size = 64 * MiB;
        g_autoptr(GError) error = NULL;
        g_autofree char *block = NULL;
        guint64 before, after;

        g_assert_true(vt_host_read_process_rss("/proc", getpid(), &before, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(before, >, 0);

        block = g_malloc(size);
        memset(block, 0x5a, size);
        g_assert_true(vt_host_read_process_rss("/proc", getpid(), &after, &error));
        g_assert_no_error(error);
        /* Kernels before 6.2 lag by up to 64 pages per thread. */
        g_assert_cmpuint(after, >=, before + size - 1 * MiB);
        g_assert_cmpint(block[size - 1], ==, 0x5a);
}

/* ---- PSI triggers ---- */

typedef struct {
        const char *text;
        gboolean ok;
        gboolean full;
        gint64 threshold_us, window_us;
        const char *normalised;
} SpecCase;

static const SpecCase spec_cases[] = {
    {"some 150000 2000000", TRUE, FALSE, 150000, 2000000, "some 150000 2000000"},
    {"full 100000 1000000", TRUE, TRUE, 100000, 1000000, "full 100000 1000000"},
    {"  some\t1   500000 ", TRUE, FALSE, 1, 500000, "some 1 500000"},
    {"some 10000000 10000000", TRUE, FALSE, 10000000, 10000000, "some 10000000 10000000"},
    {"", FALSE},
    {"some", FALSE},
    {"some 150000", FALSE},
    {"some 150000 2000000 7", FALSE},
    {"avg 150000 2000000", FALSE},
    {"SOME 150000 2000000", FALSE},
    {"some -1 2000000", FALSE},
    {"some 1.5 2000000", FALSE},
    {"some 0 2000000", FALSE},
    {"some 3000000 2000000", FALSE},
    {"some 1000 499999", FALSE},
    {"some 1000 10000001", FALSE},
    {"some 1000 4294967296", FALSE},
};

static void
test_spec(gconstpointer data)
{
        const SpecCase *c = data;
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        VtPsiTriggerSpec spec = {.threshold_us = 42};

        if (!c->ok) {
                g_assert_false(vt_psi_trigger_spec_parse(c->text, &spec, &error));
                g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
                g_assert_cmpint(spec.threshold_us, ==, 42);
                return;
        }
        g_assert_true(vt_psi_trigger_spec_parse(c->text, &spec, &error));
        g_assert_no_error(error);
        g_assert_cmpint(spec.full, ==, c->full);
        g_assert_cmpint(spec.threshold_us, ==, c->threshold_us);
        g_assert_cmpint(spec.window_us, ==, c->window_us);
        text = vt_psi_trigger_spec_to_string(&spec);
        g_assert_cmpstr(text, ==, c->normalised);
}

static void
on_fired(VtPsiTrigger *trigger, const GError *error, gpointer user_data)
{
        g_assert_null(error);
        (*(guint *)user_data)++;
}

static void
test_trigger_invalid_spec(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtPsiTrigger) trigger = NULL;
        guint n = 0;

        /* Refused before the file is even opened. */
        trigger = vt_psi_trigger_new("/nonexistent/pressure/memory", "some 0 2000000", on_fired, &n,
                                     &error);
        g_assert_null(trigger);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_assert_cmpstr(error->message, ==,
                        "Invalid PSI trigger 'some 0 2000000': the threshold must be 1 µs to the "
                        "window");
}

static void
test_trigger_no_psi(void)
{
        g_autofree char *root = data_path("no-psi");
        g_autofree char *path = g_build_filename(root, "pressure", "memory", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(VtPsiTrigger) trigger = NULL;
        guint n = 0;

        trigger = vt_psi_trigger_new(path, "some 150000 2000000", on_fired, &n, &error);
        g_assert_null(trigger);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
        g_assert_nonnull(strstr(error->message, path));
        g_assert_nonnull(strstr(error->message, "no PSI"));
}

/* A regular file (a fixture) is refused, and nothing is written to it. */
static void
test_trigger_regular_file(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtPsiTrigger) trigger = NULL;
        g_autofree char *dir = g_dir_make_tmp("vt-test-psi-XXXXXX", &error);
        g_autofree char *path = NULL;
        g_autofree char *fixture = data_path("linux-6.18-swapping/pressure/memory");
        g_autofree char *before = NULL;
        g_autofree char *after = NULL;
        guint n = 0;

        g_assert_no_error(error);
        g_file_get_contents(fixture, &before, NULL, &error);
        g_assert_no_error(error);
        path = g_build_filename(dir, "memory", NULL);
        g_file_set_contents(path, before, -1, &error);
        g_assert_no_error(error);

        trigger = vt_psi_trigger_new(path, "some 150000 2000000", on_fired, &n, &error);
        g_assert_null(trigger);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
        g_assert_nonnull(strstr(error->message, "is not a pressure file"));
        g_clear_error(&error);

        g_file_get_contents(path, &after, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(after, ==, before);
        vt_test_remove_tree(dir);
}

static gboolean
can_write_real_psi(void)
{
        int fd = open(REAL_PSI, O_RDWR | O_CLOEXEC);

        if (fd < 0)
                return FALSE;
        close(fd);
        return TRUE;
}

/* CAP_SYS_RESOURCE in the effective set, from /proc/self/status. */
static gboolean
has_cap_sys_resource(void)
{
        g_autofree char *status = NULL;
        const char *line;
        guint64 caps;

        if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
                return FALSE;
        line = strstr(status, "\nCapEff:");
        if (line == NULL)
                return FALSE;
        caps = g_ascii_strtoull(line + strlen("\nCapEff:"), NULL, 16);
        return (caps >> 24) & 1; /* CAP_SYS_RESOURCE */
}

static void
test_trigger_real_arm(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtPsiTrigger) trigger = NULL;
        g_autoptr(VtPsiTrigger) second = NULL;
        guint n = 0;

        if (!vt_test_skip_unless(can_write_real_psi(), "needs a writable " REAL_PSI " (root)"))
                return;

        trigger = vt_psi_trigger_new(REAL_PSI, "some 150000 2000000", on_fired, &n, &error);
        g_assert_no_error(error);
        g_assert_nonnull(trigger);
        g_assert_cmpstr(vt_psi_trigger_get_path(trigger), ==, REAL_PSI);
        g_assert_cmpuint(vt_psi_trigger_get_n_fired(trigger), ==, 0);

        /* A trigger per descriptor: a second one on the same file is fine. */
        second = vt_psi_trigger_new(REAL_PSI, "full 500000 4000000", on_fired, &n, &error);
        g_assert_no_error(error);
        g_assert_nonnull(second);
}

/* A 1 s window needs CAP_SYS_RESOURCE; without it the error says so. */
static void
test_trigger_real_privileged_window(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtPsiTrigger) trigger = NULL;
        guint n = 0;

        if (!vt_test_skip_unless(can_write_real_psi(), "needs a writable " REAL_PSI " (root)"))
                return;

        trigger = vt_psi_trigger_new(REAL_PSI, "some 150000 1000000", on_fired, &n, &error);
        if (has_cap_sys_resource()) {
                g_assert_no_error(error);
                g_assert_nonnull(trigger);
        } else {
                g_assert_null(trigger);
                g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
                g_assert_nonnull(strstr(error->message, "CAP_SYS_RESOURCE"));
                g_test_message("no CAP_SYS_RESOURCE: %s", error->message);
        }
}

/*
 * Making it fire: a child reads a file four times its memory cgroup's
 * limit, so every page it reads in is charged over the limit and the
 * kernel reclaims inside the cgroup, which counts as a memory stall
 * (psi_memstall_enter() around memcg reclaim). With a 1 µs threshold the
 * first stall fires the trigger. The file lives on the build directory
 * (a disk, not tmpfs, whose pages could not be reclaimed without swap)
 * and is dropped from the page cache first so the child reads it in.
 */
typedef struct {
        char *cgroup;
        char *file;
        GPid pid;
} FireFixture;

#define FIRE_LIMIT     (16 * MiB)
#define FIRE_FILE_SIZE (64 * MiB)

static char *
find_memory_cgroup_root(gboolean *ret_v2)
{
        g_autofree char *controllers = NULL;

        if (g_file_test("/sys/fs/cgroup/memory/memory.limit_in_bytes", G_FILE_TEST_EXISTS)) {
                *ret_v2 = FALSE;
                return g_strdup("/sys/fs/cgroup/memory");
        }
        if (g_file_get_contents("/sys/fs/cgroup/cgroup.subtree_control", &controllers, NULL,
                                NULL) &&
            strstr(controllers, "memory") != NULL) {
                *ret_v2 = TRUE;
                return g_strdup("/sys/fs/cgroup");
        }
        return NULL;
}

static gboolean
fire_setup(FireFixture *f, GError **error)
{
        g_autofree char *root = NULL;
        g_autofree char *limit_file = NULL;
        g_autofree char *limit = NULL;
        g_autofree char *name = NULL;
        g_autofree char *block = g_malloc(MiB);
        gboolean v2 = FALSE;
        struct statfs fs;
        int fd;

        root = find_memory_cgroup_root(&v2);
        if (root == NULL) {
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                    "no memory cgroup controller to use");
                return FALSE;
        }
        name = g_strdup_printf("vt-test-psi-fire-%d.data", (int)getpid());
        f->file = g_test_build_filename(G_TEST_BUILT, name, NULL);
        fd = open(f->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || fstatfs(fd, &fs) < 0 || fs.f_type == TMPFS_MAGIC) {
                if (fd >= 0)
                        close(fd);
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                    "the build directory is not on a disk");
                return FALSE;
        }
        memset(block, 0x5a, MiB);
        for (guint64 i = 0; i < FIRE_FILE_SIZE / MiB; i++)
                g_assert_cmpint(write(fd, block, MiB), ==, (gssize)MiB);
        g_assert_cmpint(fsync(fd), ==, 0);
        g_assert_cmpint(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), ==, 0);
        close(fd);

        f->cgroup = g_strdup_printf("%s/vmtide-test-psi-%d", root, (int)getpid());
        if (g_mkdir(f->cgroup, 0755) < 0) {
                int errsv = errno;

                g_clear_pointer(&f->cgroup, g_free);
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            "cannot create a memory cgroup: %s", g_strerror(errsv));
                return FALSE;
        }
        limit_file = g_build_filename(f->cgroup, v2 ? "memory.max" : "memory.limit_in_bytes", NULL);
        limit = g_strdup_printf("%" G_GUINT64_FORMAT, FIRE_LIMIT);
        /* In place: cgroupfs has no room for g_file_set_contents()'s temp file. */
        fd = open(limit_file, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, limit, strlen(limit)) != (gssize)strlen(limit)) {
                int errsv = errno;

                if (fd >= 0)
                        close(fd);
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "cannot write %s: %s",
                            limit_file, g_strerror(errsv));
                return FALSE;
        }
        close(fd);
        return TRUE;
}

/* The child: joins the cgroup, then reads the file four times. */
static void
fire_spawn(FireFixture *f)
{
        g_autoptr(GError) error = NULL;
        const char *argv[] = {"/bin/sh",
                              "-c",
                              "echo $$ > \"$1/cgroup.procs\" && "
                              "exec cat \"$2\" \"$2\" \"$2\" \"$2\" > /dev/null",
                              "sh",
                              f->cgroup,
                              f->file,
                              NULL};

        g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &f->pid,
                      &error);
        g_assert_no_error(error);
}

static void
fire_teardown(FireFixture *f)
{
        if (f->pid > 0) {
                kill(f->pid, SIGKILL);
                g_assert_cmpint(waitpid(f->pid, NULL, 0), ==, f->pid);
        }
        if (f->cgroup != NULL) {
                g_assert_cmpint(g_rmdir(f->cgroup), ==, 0);
                g_assert_false(g_file_test(f->cgroup, G_FILE_TEST_EXISTS));
        }
        if (f->file != NULL) {
                g_unlink(f->file);
                g_assert_false(g_file_test(f->file, G_FILE_TEST_EXISTS));
        }
        g_free(f->cgroup);
        g_free(f->file);
}

/* Sets up a fixture, or skips the test (FALSE) saying why. */
static gboolean
fire_setup_or_skip(FireFixture *f)
{
        g_autoptr(GError) error = NULL;

        if (!vt_test_skip_unless(can_write_real_psi(), "needs a writable " REAL_PSI " (root)"))
                return FALSE;
        if (!fire_setup(f, &error)) {
                fire_teardown(f);
                vt_test_skip_unless(FALSE, error->message);
                return FALSE;
        }
        return TRUE;
}

static gboolean
fired_once(gpointer data)
{
        return *(guint *)data > 0;
}

static void
test_trigger_real_fires(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtPsiTrigger) trigger = NULL;
        FireFixture f = {0};
        guint n = 0;

        if (!fire_setup_or_skip(&f))
                return;
        trigger = vt_psi_trigger_new(REAL_PSI, "some 1 2000000", on_fired, &n, &error);
        g_assert_no_error(error);
        fire_spawn(&f);

        g_assert_true(vt_test_run_until(fired_once, &n, 30 * G_USEC_PER_SEC));
        g_assert_cmpuint(vt_psi_trigger_get_n_fired(trigger), ==, n);
        fire_teardown(&f);
}

/* Freeing the trigger from its own callback is safe. */
static void
on_fired_free(VtPsiTrigger *trigger, const GError *error, gpointer user_data)
{
        VtPsiTrigger **slot = user_data;

        g_assert_null(error);
        g_assert_true(*slot == trigger);
        g_clear_pointer(slot, vt_psi_trigger_free);
}

static gboolean
is_freed(gpointer data)
{
        return *(VtPsiTrigger **)data == NULL;
}

static void
test_trigger_real_free_in_callback(void)
{
        g_autoptr(GError) error = NULL;
        FireFixture f = {0};
        VtPsiTrigger *trigger = NULL;

        if (!fire_setup_or_skip(&f))
                return;
        trigger = vt_psi_trigger_new(REAL_PSI, "some 1 2000000", on_fired_free, &trigger, &error);
        g_assert_no_error(error);
        fire_spawn(&f);

        g_assert_true(vt_test_run_until(is_freed, &trigger, 30 * G_USEC_PER_SEC));
        fire_teardown(&f);
}

int
main(int argc, char **argv)
{
        vt_test_default_srcdir();
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/host/sample/read/psi", test_read_psi);
        g_test_add_func("/host/sample/read/idle", test_read_idle);
        g_test_add_func("/host/sample/read/no-psi", test_read_no_psi);
        g_test_add_func("/host/sample/read/no-memavailable", test_read_no_memavailable);
        g_test_add_func("/host/sample/read/errors", test_read_errors);
        g_test_add_func("/host/sample/read/real", test_read_real);
        for (guint i = 0; i < G_N_ELEMENTS(cgroup_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/sample/cgroup/%s", cgroup_cases[i].dir);

                g_test_add_data_func(path, &cgroup_cases[i], test_cgroup);
        }
        g_test_add_func("/host/sample/rates/fixtures", test_rates_fixtures);
        for (guint i = 0; i < G_N_ELEMENTS(rate_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/sample/rates/%s", rate_cases[i].name);

                g_test_add_data_func(path, &rate_cases[i], test_rates);
        }
        for (guint i = 0; i < G_N_ELEMENTS(budget_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/sample/budget/%s", budget_cases[i].name);

                g_test_add_data_func(path, &budget_cases[i], test_budget);
        }
        g_test_add_func("/host/sample/ksm-host", test_ksm_host);
        g_test_add_func("/host/sample/rss/fixture", test_rss_fixture);
        g_test_add_func("/host/sample/rss/self", test_rss_self);

        for (guint i = 0; i < G_N_ELEMENTS(spec_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/psi/spec/%s%s", spec_cases[i].ok ? "" : "bad-",
                                    spec_cases[i].text[0] != '\0' ? spec_cases[i].text : "empty");

                g_strdelimit(path + strlen("/host/psi/spec/"), "/ \t", '_');

                g_test_add_data_func(path, &spec_cases[i], test_spec);
        }
        g_test_add_func("/host/psi/trigger/invalid-spec", test_trigger_invalid_spec);
        g_test_add_func("/host/psi/trigger/no-psi", test_trigger_no_psi);
        g_test_add_func("/host/psi/trigger/regular-file", test_trigger_regular_file);
        g_test_add_func("/host/psi/trigger/real-arm", test_trigger_real_arm);
        g_test_add_func("/host/psi/trigger/real-privileged-window",
                        test_trigger_real_privileged_window);
        g_test_add_func("/host/psi/trigger/real-fires", test_trigger_real_fires);
        g_test_add_func("/host/psi/trigger/real-free-in-callback",
                        test_trigger_real_free_in_callback);

        return g_test_run();
}
