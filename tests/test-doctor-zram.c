/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration: a real zram device as swap on this machine (issue 15,
 * part 5). zram0 gets an algorithm and a disksize, becomes swap, and a
 * child process in a small memory cgroup (v1) allocates more than its
 * limit so that it swaps into zram. The host's mm sample then holds real
 * figures, and the doctor's rules (and `vmtide doctor --json`) judge them:
 * compressible data held still (a good ratio, nothing fires), the same
 * data cycled through (swap-in tracking swap-out: the thrashing rule
 * fires when its figures say so), random data (the poor-ratio rule).
 *
 * Everything global is put back as found on every path: the child killed
 * by pid, its cgroup removed, swapoff, zram0 reset (disksize 0) and its
 * algorithm restored; by the fixture's teardown, and by an atexit and
 * signal guard when an assertion aborts. zram0 must be unused (disksize
 * 0, not swap) to begin with, else the test skips: it never touches a
 * device someone else uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/doctor/doctor-rules.h"
#include "host/sensing/sensing-mm.h"
#include "host/sensing/sensing-sample.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"

#define ZRAM_DIR   "/sys/block/zram0"
#define ZRAM_DEV   "/dev/zram0"
#define MEMCG_ROOT "/sys/fs/cgroup/memory"
#define MIB        (G_GUINT64_CONSTANT(1) << 20)
#define CG_LIMIT   (64 * MIB)
#define ZRAM_SIZE  (512 * MIB)
#define PAGE       4096

typedef enum {
        WORK_TEXT_HOLD,  /* compressible, touched once, then held */
        WORK_TEXT_CYCLE, /* compressible, read and written over and over */
        WORK_RANDOM,     /* incompressible, cycled */
} Work;

/* What the test changed, for the cleanup: global so the guard sees it. */
static struct {
        char algorithm[64];
        gboolean zram_touched;
        gboolean swapped_on;
        char cgroup[256];
        pid_t child;
} zt;

/*
 * Puts back everything the test changed, in the order that lets each
 * step succeed. Idempotent; safe from the guard (the test is
 * single-threaded, and an aborting process no longer needs the heap's
 * consistency beyond this).
 */
static void
restore_all(void)
{
        if (zt.child > 0) {
                kill(zt.child, SIGKILL);
                waitpid(zt.child, NULL, 0);
                zt.child = 0;
        }
        if (zt.cgroup[0] != '\0') {
                /* A killed task leaves its cgroup once its memory is freed. */
                for (int i = 0; i < 100 && rmdir(zt.cgroup) < 0 && errno == EBUSY; i++)
                        g_usleep(50000);
                zt.cgroup[0] = '\0';
        }
        if (zt.swapped_on) {
                if (swapoff(ZRAM_DEV) < 0)
                        fprintf(stderr, "# swapoff %s: %s\n", ZRAM_DEV, strerror(errno));
                zt.swapped_on = FALSE;
        }
        if (zt.zram_touched) {
                if (!vt_test_write_file(ZRAM_DIR "/reset", "1"))
                        fprintf(stderr, "# reset %s: %s\n", ZRAM_DIR, strerror(errno));
                if (!vt_test_write_file(ZRAM_DIR "/comp_algorithm", zt.algorithm))
                        fprintf(stderr, "# comp_algorithm %s: %s\n", zt.algorithm, strerror(errno));
                zt.zram_touched = FALSE;
        }
}

static void
guard_signal(int sig)
{
        restore_all();
        signal(sig, SIG_DFL);
        raise(sig);
}

/* The selected algorithm of "lzo [lzo-rle] lz4". */
static gboolean
read_algorithm(char *ret, gsize size)
{
        g_autofree char *text = vt_test_read_text(ZRAM_DIR "/comp_algorithm");
        const char *open_ = text ? strchr(text, '[') : NULL;
        const char *close_ = open_ ? strchr(open_, ']') : NULL;

        if (close_ == NULL || (gsize)(close_ - open_) >= size)
                return FALSE;
        g_strlcpy(ret, open_ + 1, (gsize)(close_ - open_));
        return TRUE;
}

/* Whether /proc/swaps lists zram0. */
static gboolean
zram_is_swap(void)
{
        g_autofree char *swaps = vt_test_read_text("/proc/swaps");

        return swaps != NULL && strstr(swaps, ZRAM_DEV) != NULL;
}

/* What the test needs; the reason it skips otherwise. */
static const char *
missing(void)
{
        g_autofree char *disksize = NULL;
        g_autofree char *mkswap = g_find_program_in_path("mkswap");

        if (geteuid() != 0)
                return "not root";
        if (!g_file_test(ZRAM_DIR, G_FILE_TEST_IS_DIR))
                return "no zram0 (modprobe zram)";
        if (mkswap == NULL)
                return "no mkswap (util-linux)";
        if (!g_file_test(MEMCG_ROOT "/cgroup.procs", G_FILE_TEST_EXISTS))
                return "no memory cgroup v1 at " MEMCG_ROOT;
        disksize = vt_test_read_text(ZRAM_DIR "/disksize");
        if (disksize == NULL || !g_str_equal(disksize, "0") || zram_is_swap())
                return "zram0 is in use (disksize not 0, or swap): not touching it";
        return NULL;
}

/* The child's workload, in its cgroup: never returns. */
static G_GNUC_NORETURN void
child_work(int go_fd, Work work, guint64 bytes)
{
        static const char words[16][8] = {
            "memory ", "guest  ", "balloon", " swaps ", "ksmd   ", " page  ", "zram   ", "merges ",
            " host  ", "pressur", "the    ", " and   ", " of    ", "compres", " tide  ", "virtio "};
        guint64 pages = bytes / PAGE;
        guint64 x = 0x9e3779b97f4a7c15u;
        char buf;
        unsigned char *mem;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (read(go_fd, &buf, 1) != 1)
                _exit(2);
        mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
                _exit(3);
        for (guint64 p = 0; p < pages; p++) {
                unsigned char *page = mem + p * PAGE;

                if (work == WORK_RANDOM) {
                        for (guint i = 0; i < PAGE; i += 8) {
                                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                                memcpy(page + i, &x, 8);
                        }
                } else {
                        /* Words picked at random: text, about 3:1 (the seed's figure). */
                        for (guint i = 0; i < PAGE;) {
                                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                                guint len = MIN((guint)G_N_ELEMENTS(words[0]) - 1, PAGE - i);
                                memcpy(page + i, words[x % G_N_ELEMENTS(words)], len);
                                i += len;
                        }
                }
        }
        for (;;) {
                if (work == WORK_TEXT_HOLD) {
                        pause();
                        continue;
                }
                for (guint64 p = 0; p < pages; p++)
                        mem[p * PAGE + 100]++;
        }
}

typedef struct {
        int unused;
} Fixture;

/* zram0 as swap, and a memory cgroup limited to CG_LIMIT. */
static void
fixture_setup(Fixture *fixture, gconstpointer data)
{
        g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, ZRAM_SIZE);
        g_autofree char *limit = g_strdup_printf("%" G_GUINT64_FORMAT, CG_LIMIT);
        g_autofree char *limit_path = NULL;
        const char *argv[] = {"mkswap", ZRAM_DEV, NULL};
        g_autoptr(GError) error = NULL;
        int status = -1;
        const char *why = missing();

        (void)fixture, (void)data;
        if (!vt_test_skip_unless(why == NULL, why))
                return;
        g_assert_true(read_algorithm(zt.algorithm, sizeof(zt.algorithm)));
        zt.zram_touched = TRUE;
        /* lzo-rle is this kernel's default; any listed one would do. */
        g_assert_true(vt_test_write_file(ZRAM_DIR "/comp_algorithm", "lzo-rle"));
        g_assert_true(vt_test_write_file(ZRAM_DIR "/disksize", size));
        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                                   G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                   NULL, NULL, &status, &error));
        g_assert_no_error(error);
        g_assert_cmpint(status, ==, 0);
        g_assert_cmpint(swapon(ZRAM_DEV, 0), ==, 0);
        zt.swapped_on = TRUE;
        g_snprintf(zt.cgroup, sizeof(zt.cgroup), "%s/vmtide-test-doctor-%d", MEMCG_ROOT,
                   (int)getpid());
        if (mkdir(zt.cgroup, 0755) < 0) {
                zt.cgroup[0] = '\0';
                g_error("mkdir in %s: %s", MEMCG_ROOT, g_strerror(errno));
        }
        limit_path = g_build_filename(zt.cgroup, "memory.limit_in_bytes", NULL);
        g_assert_true(vt_test_write_file(limit_path, limit));
}

static void
fixture_teardown(Fixture *fixture, gconstpointer data)
{
        (void)fixture, (void)data;
        restore_all();
}

/* Starts the workload in the cgroup: the child waits until it is in. */
static void
start_child(Work work, guint64 bytes)
{
        g_autofree char *procs = g_build_filename(zt.cgroup, "cgroup.procs", NULL);
        g_autofree char *pid_text = NULL;
        int fds[2];
        pid_t pid;

        g_assert_cmpint(pipe(fds), ==, 0);
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                close(fds[1]);
                child_work(fds[0], work, bytes);
        }
        close(fds[0]);
        zt.child = pid;
        pid_text = g_strdup_printf("%d", (int)pid);
        g_assert_true(vt_test_write_file(procs, pid_text));
        g_assert_cmpint(write(fds[1], "g", 1), ==, 1);
        close(fds[1]);
}

static const VtHostZram *
find_zram0(const VtHostMmSample *mm)
{
        for (guint i = 0; i < mm->n_zram; i++) {
                if (g_str_equal(mm->zram[i].name, "zram0"))
                        return &mm->zram[i];
        }
        g_error("the host sample has no zram0");
}

/* Waits until zram0 holds @bytes (the child swapped that much), at most a minute. */
static void
wait_zram_holds(guint64 bytes)
{
        g_autofree VtHostMmSample *mm = g_new0(VtHostMmSample, 1);
        gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
        const VtHostZram *z = NULL;

        do {
                g_usleep(200000);
                vt_host_mm_sample_read(VT_HOST_MM_ROOT, g_get_monotonic_time(), mm);
                z = find_zram0(mm);
                g_assert_cmpint(waitpid(zt.child, NULL, WNOHANG), ==, 0); /* not OOM-killed */
        } while (z->orig_data_size < bytes && g_get_monotonic_time() < deadline);
        g_assert_cmpuint(z->orig_data_size, >=, bytes);
}

/* Two readings @interval_s apart and the rules' findings over them. */
typedef struct {
        VtHostSample host_prev;
        VtHostSample host;
        VtHostMmSample mm_prev;
        VtHostMmSample mm;
        GPtrArray *findings;
        double in_per_s;
        double out_per_s;
        double psi;
} Reading;

static Reading *
read_and_judge(double interval_s)
{
        Reading *r = g_new0(Reading, 1);
        g_autoptr(GError) error = NULL;
        VtDoctorInput in = {0};
        double dt;

        g_assert_true(
            vt_host_sample_read("/proc", NULL, g_get_monotonic_time(), &r->host_prev, &error));
        vt_host_mm_sample_read(VT_HOST_MM_ROOT, g_get_monotonic_time(), &r->mm_prev);
        g_usleep((gulong)(interval_s * G_USEC_PER_SEC));
        g_assert_true(vt_host_sample_read("/proc", NULL, g_get_monotonic_time(), &r->host, &error));
        vt_host_mm_sample_read(VT_HOST_MM_ROOT, g_get_monotonic_time(), &r->mm);
        in = (VtDoctorInput){.host = &r->host,
                             .host_prev = &r->host_prev,
                             .mm = &r->mm,
                             .mm_prev = &r->mm_prev,
                             .ksmd_cpu_share = -1.0,
                             .page_size = PAGE};
        r->findings = vt_doctor_run(&in);
        dt = (double)(r->host.sampled_us - r->host_prev.sampled_us) / G_USEC_PER_SEC;
        r->in_per_s = (double)(r->host.pswpin - r->host_prev.pswpin) / dt;
        r->out_per_s = (double)(r->host.pswpout - r->host_prev.pswpout) / dt;
        r->psi = MAX(r->host.psi_some_avg10,
                     100.0 * (double)(r->host.psi_some_total_us - r->host_prev.psi_some_total_us) /
                         (dt * G_USEC_PER_SEC));
        return r;
}

static void
reading_free(Reading *r)
{
        g_ptr_array_unref(r->findings);
        g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Reading, reading_free)

static const VtDoctorFinding *
find_rule(GPtrArray *findings, const char *rule)
{
        for (guint i = 0; i < findings->len; i++) {
                const VtDoctorFinding *f = findings->pdata[i];

                if (g_str_equal(f->rule, rule))
                        return f;
        }
        return NULL;
}

/* The finding of @rule; the test fails without it. */
static const VtDoctorFinding *
require_rule(GPtrArray *findings, const char *rule)
{
        const VtDoctorFinding *f = find_rule(findings, rule);

        if (f == NULL)
                g_error("rule %s did not fire", rule);
        return f;
}

/* Prints zram0's figures and the findings, for the log and docs/doctor.md. */
static void
say_reading(const Reading *r)
{
        const VtHostZram *z = find_zram0(&r->mm);

        vt_test_say("zram0 %s: orig %" G_GUINT64_FORMAT " compr %" G_GUINT64_FORMAT
                    " used %" G_GUINT64_FORMAT " huge_pages %" G_GUINT64_FORMAT
                    " (%.2fx); swap %.0f in/s %.0f out/s; PSI some %.1f %%",
                    z->algorithm, z->orig_data_size, z->compr_data_size, z->mem_used_total,
                    z->huge_pages,
                    z->mem_used_total ? (double)z->orig_data_size / (double)z->mem_used_total : 0,
                    r->in_per_s, r->out_per_s, r->psi);
        for (guint i = 0; i < r->findings->len; i++) {
                const VtDoctorFinding *f = r->findings->pdata[i];

                vt_test_say("finding %s %s %s: %s [%s]", vt_doctor_severity_to_string(f->severity),
                            f->rule, f->subject, f->title, f->figures);
        }
}

/* `vmtide doctor --json` without a daemon: its host part, parsed. */
static json_object *
run_cli_doctor(void)
{
        const char *argv[] = {VT_CLI,   "--socket", "/nonexistent/vmtided.sock",
                              "doctor", "--json",   "--interval",
                              "1",      NULL};
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(GError) error = NULL;
        json_object *json;
        int status = -1;

        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                     &error);
        g_assert_no_error(error);
        g_assert_cmpint(status, ==, 0);
        json = json_tokener_parse(out);
        g_assert_nonnull(json);
        return json;
}

static gboolean
json_has_rule(json_object *doctor, const char *rule)
{
        json_object *findings = json_object_object_get(doctor, "findings");

        for (size_t i = 0; i < json_object_array_length(findings); i++) {
                json_object *f = json_object_array_get_idx(findings, i);

                if (g_str_equal(json_object_get_string(json_object_object_get(f, "rule")), rule))
                        return TRUE;
        }
        return FALSE;
}

/* Compressible data swapped out and held still: real figures, a good ratio, nothing fires. */
static void
test_text_hold(Fixture *fixture, gconstpointer data)
{
        g_autoptr(Reading) r = NULL;
        g_autoptr(json_object) doctor = NULL;
        VtHostSample before;
        const VtHostZram *z;
        json_object *zram;
        gboolean found = FALSE;

        (void)fixture, (void)data;
        if (zt.cgroup[0] == '\0')
                return; /* skipped */
        g_assert_true(vt_host_sample_read("/proc", NULL, g_get_monotonic_time(), &before, NULL));
        start_child(WORK_TEXT_HOLD, 192 * MIB);
        wait_zram_holds(96 * MIB);
        r = read_and_judge(2.0);
        say_reading(r);
        z = find_zram0(&r->mm);
        g_assert_true(z->is_swap);
        g_assert_true(z->has_mm_stat);
        g_assert_cmpuint(z->orig_data_size, >=, 96 * MIB);
        g_assert_cmpuint(z->compr_data_size, >, 0);
        g_assert_cmpfloat((double)z->orig_data_size / (double)z->compr_data_size, >, 1.0);
        g_assert_cmpfloat((double)z->orig_data_size / (double)z->mem_used_total, >=,
                          VT_DOCTOR_ZRAM_POOR_RATIO);
        g_assert_cmpuint(r->host.pswpout - before.pswpout, >=, (96 * MIB) / PAGE);
        g_assert_null(find_rule(r->findings, "zram-poor-ratio"));
        g_assert_null(find_rule(r->findings, "host-compression-thrashing"));

        /* The command sees the same device. */
        doctor = run_cli_doctor();
        g_assert_false(json_object_get_boolean(json_object_object_get(doctor, "guests_checked")));
        zram = json_object_object_get(json_object_object_get(doctor, "host"), "zram");
        for (size_t i = 0; i < json_object_array_length(zram); i++) {
                json_object *dev = json_object_array_get_idx(zram, i);

                if (!g_str_equal(json_object_get_string(json_object_object_get(dev, "name")),
                                 "zram0"))
                        continue;
                found = TRUE;
                g_assert_true(json_object_get_boolean(json_object_object_get(dev, "is_swap")));
                g_assert_cmpint(
                    json_object_get_int64(json_object_object_get(dev, "orig_data_size")), >=,
                    (gint64)(96 * MIB));
        }
        g_assert_true(found);
        g_assert_false(json_has_rule(doctor, "zram-poor-ratio"));
}

/* The same data read and written over and over: swap-in tracks swap-out. */
static void
test_text_cycle(Fixture *fixture, gconstpointer data)
{
        g_autoptr(Reading) r = NULL;
        const VtDoctorFinding *f;
        gboolean expect;

        (void)fixture, (void)data;
        if (zt.cgroup[0] == '\0')
                return;
        start_child(WORK_TEXT_CYCLE, 192 * MIB);
        wait_zram_holds(64 * MIB);
        r = read_and_judge(3.0);
        say_reading(r);
        g_assert_cmpfloat(r->in_per_s, >=, VT_DOCTOR_SWAP_ACTIVE_PER_S);
        g_assert_cmpfloat(r->out_per_s, >=, VT_DOCTOR_SWAP_ACTIVE_PER_S);
        g_assert_cmpfloat(r->in_per_s, >=, VT_DOCTOR_SWAP_TRACKING * r->out_per_s);
        g_assert_null(find_rule(r->findings, "zram-poor-ratio"));
        /* The rule wants stalls too: it fires exactly when PSI says the host stalls. */
        expect = r->psi >= VT_DOCTOR_PSI_RISING;
        if (expect) {
                f = require_rule(r->findings, "host-compression-thrashing");
                g_assert_cmpint(f->severity, ==, VT_DOCTOR_SEVERITY_CRITICAL);
        } else {
                vt_test_say("memory PSI some only %.1f %%: the thrashing rule stays quiet", r->psi);
                g_assert_null(find_rule(r->findings, "host-compression-thrashing"));
        }
}

/* Random data: zram stores it whole, and the poor-ratio rule says so. */
static void
test_random(Fixture *fixture, gconstpointer data)
{
        g_autoptr(Reading) r = NULL;
        const VtHostZram *z;
        const VtDoctorFinding *f;

        (void)fixture, (void)data;
        if (zt.cgroup[0] == '\0')
                return;
        start_child(WORK_RANDOM, 160 * MIB);
        wait_zram_holds(48 * MIB);
        r = read_and_judge(2.0);
        say_reading(r);
        z = find_zram0(&r->mm);
        g_assert_cmpuint(z->huge_pages, >, 0);
        g_assert_cmpfloat((double)z->orig_data_size / (double)z->mem_used_total, <,
                          VT_DOCTOR_ZRAM_POOR_RATIO);
        f = require_rule(r->findings, "zram-poor-ratio");
        g_assert_cmpstr(f->subject, ==, "host");
        g_assert_nonnull(strstr(f->title, "zram0"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        atexit(restore_all);
        signal(SIGABRT, guard_signal);
        signal(SIGINT, guard_signal);
        signal(SIGTERM, guard_signal);
        signal(SIGSEGV, guard_signal);
        g_test_add("/doctor-zram/text-hold", Fixture, NULL, fixture_setup, test_text_hold,
                   fixture_teardown);
        g_test_add("/doctor-zram/text-cycle", Fixture, NULL, fixture_setup, test_text_cycle,
                   fixture_teardown);
        g_test_add("/doctor-zram/random", Fixture, NULL, fixture_setup, test_random,
                   fixture_teardown);
        return g_test_run();
}
