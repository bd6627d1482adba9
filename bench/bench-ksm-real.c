/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtide's KSM tuner against the real ksmtuned, on this host's real memory. */

/*
 * The real ksmtuned is the Debian package's script, /usr/sbin/ksmtuned,
 * with its shipped /etc/ksmtuned.conf (every setting at its default) and
 * DEBUG=1 so that its decisions are logged; it runs in its own session and
 * never as a service. It judges the host's real memory: free_memory()
 * (MemFree + Buffers + Cached) under 20 % of MemTotal makes it boost. So a
 * memory hog (a child of the bench) squeezes this host until that sum is
 * under --free-percent (15 %) of MemTotal, and gives memory back whenever
 * MemAvailable falls under 2 GiB, so that the machine's other users keep
 * room; it holds the squeeze for both runs.
 *
 * The mergeable memory is synthetic, said so: three idle processes of
 * 256 MiB each (madvise(MADV_MERGEABLE), as QEMU does to guest RAM), 3/4
 * of whose pages are the same in all three (distinct within a process) and
 * 1/4 unique: 384 MiB can be saved. Each policy in turn drives KSM for the
 * same time, after everything merged before was unmerged (run=2) and KSM
 * stopped: vmtide's tuner (bench-ksm's code path: vt_ksm_tuner_decide and
 * vt_ksm_driver_apply, one tick a second, the host as /proc/meminfo says)
 * and then ksmtuned (its own 60 s cadence). Each second the bench records
 * the three processes' ksm_merging_pages, the global pages_sharing and
 * ksmd's CPU (/proc/<ksmd>/stat); ksmtuned's own CPU is its loop's utime,
 * stime, cutime and cstime (its awk, ps, pgrep and sleep children are
 * reaped by it).
 *
 * KSM's settings are saved first and restored last; every process the
 * bench started is killed by its pid (ksmtuned by its session's process
 * group) at the end, on an error and from SIGINT, SIGTERM, SIGHUP, SIGABRT
 * and SIGTRAP (g_error).
 *
 *   bench-ksm-real [SECONDS [FREE_PERCENT]]   (default 180 and 15; root)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ksm/ksm-driver.h"
#include "ksm/ksm-proc.h"
#include "tests/vt-test-util.h"

#define MIB           (G_GUINT64_CONSTANT(1024) * 1024)
#define N_WORKERS     3
#define WORKER_BYTES  (256 * MIB)
#define HOG_CHUNK     (128 * MIB)
#define HOG_FLOOR     (2048 * MIB)
#define KSMTUNED      "/usr/sbin/ksmtuned"
#define KSMTUNED_PID  "/tmp/bench-ksm-real.ksmtuned.pid"
#define KSMTUNED_LOG  "/tmp/bench-ksm-real.ksmtuned.log"
#define N_CHECKPOINTS 4

/* Everything started, for the guard to kill by pid. */
static pid_t workers[N_WORKERS];
static pid_t hog;
static pid_t ksmtuned_sid;
/* KSM as found, restored by the guard too. */
static VtKsmSysfs *guard_sysfs;
static VtKsmSysfsSettings *guard_saved;
static pid_t main_pid;

typedef struct {
        const char *name;
        guint64 saved[N_CHECKPOINTS];
        guint64 sharing[N_CHECKPOINTS];
        double ksmd_s[N_CHECKPOINTS];
        double tuner_s[N_CHECKPOINTS];
        guint n_writes;
        double free_pct;
} Run;

static void
kill_pid(pid_t *pid, gboolean group)
{
        if (*pid <= 0)
                return;
        kill(group ? -*pid : *pid, SIGKILL);
        if (!group)
                waitpid(*pid, NULL, 0);
        *pid = 0;
}

static void
kill_all(void)
{
        kill_pid(&ksmtuned_sid, TRUE);
        kill_pid(&hog, FALSE);
        for (guint i = 0; i < N_WORKERS; i++)
                kill_pid(&workers[i], FALSE);
}

/* Kills everything started and puts KSM back as found; idempotent. */
static void
cleanup(void)
{
        g_autoptr(GError) error = NULL;

        if (getpid() != main_pid) /* a child inherits the guard: not its job */
                return;
        kill_all();
        if (guard_saved != NULL) {
                if (!vt_ksm_sysfs_write_u64(guard_sysfs, "run", 2, &error) ||
                    !vt_ksm_sysfs_restore(guard_sysfs, guard_saved, &error))
                        fprintf(stderr, "bench-ksm-real: restoring KSM: %s\n", error->message);
                guard_saved = NULL;
        }
}

static void
guard_signal(int sig)
{
        cleanup();
        signal(sig, SIG_DFL);
        raise(sig);
}

/* A field of /proc/meminfo, bytes. */
static guint64
meminfo(const char *text, const char *field)
{
        g_autofree char *key = g_strdup_printf("\n%s:", field);
        const char *p = strstr(text, key);

        return p ? g_ascii_strtoull(p + strlen(key), NULL, 10) * 1024 : 0;
}

static void
read_host(VtKsmHost *host)
{
        g_autofree char *text = NULL;
        g_autofree char *nl = NULL;

        if (!g_file_get_contents("/proc/meminfo", &text, NULL, NULL))
                g_error("/proc/meminfo unreadable");
        nl = g_strconcat("\n", text, NULL);
        *host = (VtKsmHost){.mem_total = meminfo(nl, "MemTotal"),
                            .mem_available = meminfo(nl, "MemAvailable"),
                            .mem_free = meminfo(nl, "MemFree") + meminfo(nl, "Buffers") +
                                        meminfo(nl, "Cached"),
                            .n_cpus = (guint)sysconf(_SC_NPROCESSORS_ONLN)};
}

/* A worker: 3/4 of its pages shared with the other workers, 1/4 its own. */
static G_GNUC_NORETURN void
worker_main(guint index)
{
        gsize page = (gsize)sysconf(_SC_PAGESIZE), n = WORKER_BYTES / page;
        guint64 *mem =
            mmap(NULL, WORKER_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (mem == MAP_FAILED)
                _exit(1);
        for (gsize p = 0; p < n; p++) {
                guint64 seed = p % 4 == 3 ? (p << 8 | index) * 0x9E3779B97F4A7C15ULL : p + 1;

                for (gsize w = 0; w < page / sizeof(guint64); w++)
                        mem[p * page / sizeof(guint64) + w] = (seed += 0x632BE59BD9B4E019ULL);
        }
        if (madvise(mem, WORKER_BYTES, MADV_MERGEABLE) < 0)
                _exit(2);
        for (;;)
                pause();
}

/* The hog: keeps MemFree + Buffers + Cached under TARGET, MemAvailable over the floor. */
static G_GNUC_NORETURN void
hog_main(guint64 target)
{
        GPtrArray *chunks = g_ptr_array_new();

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;) {
                VtKsmHost host;

                read_host(&host);
                if (host.mem_available < HOG_FLOOR && chunks->len > 0) {
                        munmap(g_ptr_array_steal_index(chunks, chunks->len - 1), HOG_CHUNK);
                } else if (host.mem_free > target &&
                           host.mem_available > HOG_FLOOR + 2 * HOG_CHUNK) {
                        char *c = mmap(NULL, HOG_CHUNK, PROT_READ | PROT_WRITE,
                                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

                        if (c != MAP_FAILED) {
                                memset(c, 0x5a, HOG_CHUNK);
                                g_ptr_array_add(chunks, c);
                        }
                        continue;
                }
                g_usleep(200000);
        }
}

static pid_t
spawn(void (*fn)(guint64), guint64 arg)
{
        pid_t pid = fork();

        if (pid < 0)
                g_error("fork: %s", g_strerror(errno));
        if (pid == 0)
                fn(arg);
        return pid;
}

static void
worker_fn(guint64 i)
{
        worker_main((guint)i);
}

static void
hog_fn(guint64 target)
{
        hog_main(target);
}

/* Starts ksmtuned in a session of its own; returns its loop's pid. */
static pid_t
start_ksmtuned(void)
{
        pid_t pid;
        g_autofree char *text = NULL;

        unlink(KSMTUNED_PID);
        unlink(KSMTUNED_LOG);
        pid = fork();
        if (pid == 0) {
                setsid();
                setenv("PIDFILE", KSMTUNED_PID, 1);
                setenv("DEBUG", "1", 1);
                setenv("LOGFILE", KSMTUNED_LOG, 1);
                execl("/bin/bash", "bash", KSMTUNED, (char *)NULL);
                _exit(127);
        }
        ksmtuned_sid = pid;
        waitpid(pid, NULL, 0); /* the script forks its loop and exits */
        for (int i = 0; i < 50 && !g_file_get_contents(KSMTUNED_PID, &text, NULL, NULL); i++)
                g_usleep(100000);
        if (text == NULL || atoi(text) <= 0)
                g_error("ksmtuned wrote no pid to %s", KSMTUNED_PID);
        return atoi(text);
}

/* A process's CPU with its reaped children's, seconds. */
static double
cpu_with_children(pid_t pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
        g_autofree char *text = NULL;
        const char *p;
        unsigned long long ut = 0, st = 0, cut = 0, cst = 0;

        if (!g_file_get_contents(path, &text, NULL, NULL) || (p = strrchr(text, ')')) == NULL ||
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &ut,
                   &st, &cut, &cst) != 4)
                return 0;
        return (double)(ut + st + cut + cst) / (double)sysconf(_SC_CLK_TCK);
}

static gint64
worker_merging(pid_t pid)
{
        VtKsmProcStat stat = {0};

        if (!vt_ksm_proc_read_stat("/proc", pid, &stat, NULL) || !stat.has_merging_pages)
                return 0;
        return (gint64)stat.merging_pages;
}

static void
read_guests(VtKsmGuest *guests)
{
        for (guint i = 0; i < N_WORKERS; i++)
                guests[i] = (VtKsmGuest){.mergeable_bytes = WORKER_BYTES,
                                         .merging_pages = worker_merging(workers[i]),
                                         .rss_bytes = WORKER_BYTES};
}

/* Unmerges everything and stops KSM, at the kernel's default pace. */
static void
reset_ksm(VtKsmSysfs *sysfs)
{
        g_autoptr(GError) error = NULL;

        if ((vt_ksm_sysfs_has(sysfs, "advisor_mode") &&
             !vt_ksm_sysfs_write_string(sysfs, "advisor_mode", "none", &error)) ||
            !vt_ksm_sysfs_write_u64(sysfs, "run", 2, &error) ||
            !vt_ksm_sysfs_write_u64(sysfs, "run", 0, &error) ||
            !vt_ksm_sysfs_write_u64(sysfs, "pages_to_scan", 100, &error) ||
            !vt_ksm_sysfs_write_u64(sysfs, "sleep_millisecs", 20, &error))
                g_error("resetting KSM: %s", error->message);
}

typedef struct {
        VtKsmTunerConfig config;
        VtKsmTunerState state;
        VtKsmKernel kernel;
        VtKsmSample previous;
        gboolean has_previous;
} Tuner;

/* One second of vmtide's tuner, as bench-ksm drives it. */
static guint
tuner_tick(VtKsmSysfs *sysfs, Tuner *t, const VtKsmSample *sample, guint second)
{
        g_autoptr(GError) error = NULL;
        VtKsmGuest guests[N_WORKERS];
        VtKsmHost host;
        VtKsmRates rates = {0};
        VtKsmDecision decision = {0};
        gboolean has_rates = t->has_previous && vt_ksm_rates_compute(&t->previous, sample,
                                                                     t->kernel.page_size, &rates);
        guint n_writes = 0;
        VtKsmTunerInput input;

        read_host(&host);
        read_guests(guests);
        input = (VtKsmTunerInput){.host = &host,
                                  .guests = guests,
                                  .n_guests = N_WORKERS,
                                  .kernel = &t->kernel,
                                  .sample = sample,
                                  .rates = has_rates ? &rates : NULL,
                                  .now_us = sample->time_us};
        vt_ksm_tuner_decide(&input, &t->config, &t->state, &decision);
        if (!vt_ksm_driver_apply(sysfs, &decision, &n_writes, &error))
                g_error("vmtide: %s", error->message);
        if (n_writes > 0)
                printf("  %3u s  %s\n", second, decision.reason);
        t->previous = *sample;
        t->has_previous = TRUE;
        return n_writes;
}

static void
run_policy(VtKsmSysfs *sysfs, Run *run, guint seconds, const guint *checkpoints)
{
        gboolean vmtide = g_str_equal(run->name, "vmtide");
        Tuner t = {0};
        VtKsmSample first = {0}, sample = {0};
        g_autoptr(GError) error = NULL;
        pid_t loop = 0;
        gint64 start;
        double free_sum = 0;

        reset_ksm(sysfs);
        vt_ksm_tuner_config_init(&t.config);
        t.kernel = (VtKsmKernel){.has_advisor = vt_ksm_sysfs_has(sysfs, "advisor_mode"),
                                 .has_pages_scanned = vt_ksm_sysfs_has(sysfs, "pages_scanned"),
                                 .page_size = (guint64)sysconf(_SC_PAGESIZE),
                                 .pages_to_scan_max = 100000};
        printf("%s:\n", run->name);
        if (!vmtide)
                loop = start_ksmtuned();
        start = g_get_monotonic_time();
        for (guint s = 0, c = 0; s <= seconds; s++) {
                VtKsmHost host;
                guint64 merged = 0;

                g_usleep(
                    (guint64)MAX(start + (gint64)s * G_USEC_PER_SEC - g_get_monotonic_time(), 0));
                if (!vt_ksm_sysfs_read_sample(sysfs, &sample, &error))
                        g_error("%s", error->message);
                if (s == 0)
                        first = sample;
                if (vmtide)
                        run->n_writes += tuner_tick(sysfs, &t, &sample, s);
                read_host(&host);
                free_sum += 100.0 * (double)host.mem_free / (double)host.mem_total;
                if (c >= N_CHECKPOINTS || s != checkpoints[c])
                        continue;
                for (guint i = 0; i < N_WORKERS; i++)
                        merged += (guint64)worker_merging(workers[i]);
                /* Fully merged, three copies of a page cost one: saved = 2/3 of merged. */
                run->saved[c] = merged * t.kernel.page_size * 2 / 3;
                run->sharing[c] = sample.pages_sharing;
                run->ksmd_s[c] = (double)(sample.ksmd_cpu_us - first.ksmd_cpu_us) / G_USEC_PER_SEC;
                run->tuner_s[c] = vmtide ? 0 : cpu_with_children(loop);
                printf("  %3u s  merged %.0f MiB, pages_sharing %" G_GUINT64_FORMAT
                       ", run=%u pages_to_scan=%" G_GUINT64_FORMAT " sleep=%" G_GUINT64_FORMAT
                       " ms, ksmd %.1f CPU-s\n",
                       s, (double)merged * t.kernel.page_size / MIB, sample.pages_sharing,
                       sample.run, sample.pages_to_scan, sample.sleep_millisecs, run->ksmd_s[c]);
                c++;
        }
        run->free_pct = free_sum / (seconds + 1);
        kill_pid(&ksmtuned_sid, TRUE);
}

static void
print_table(const Run *runs, guint n, const guint *cp)
{
        printf(
            "\n| policy | free %% (mean) | saved at %u s | %u s | %u s | %u s | ksmd CPU-s at %u s "
            "| %u s | %u s | %u s | tuner's own CPU-s | MiB saved per ksmd CPU-s | knob writes "
            "|\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            cp[0], cp[1], cp[2], cp[3], cp[0], cp[1], cp[2], cp[3]);
        for (guint p = 0; p < n; p++) {
                const Run *r = &runs[p];
                double per = r->ksmd_s[3] > 0 ? (double)r->saved[3] / MIB / r->ksmd_s[3] : 0;

                printf(
                    "| %s | %.1f | %.0f MiB | %.0f MiB | %.0f MiB | %.0f MiB | %.1f | %.1f | %.1f "
                    "| %.1f | %s | %.0f | %s |\n",
                    r->name, r->free_pct, (double)r->saved[0] / MIB, (double)r->saved[1] / MIB,
                    (double)r->saved[2] / MIB, (double)r->saved[3] / MIB, r->ksmd_s[0],
                    r->ksmd_s[1], r->ksmd_s[2], r->ksmd_s[3],
                    p == 0 ? "(in-process)" : g_strdup_printf("%.2f", r->tuner_s[3]), per,
                    p == 0 ? g_strdup_printf("%u", r->n_writes) : "(see its log)");
        }
}

int
main(int argc, char **argv)
{
        guint seconds = MAX(argc > 1 ? (guint)atoi(argv[1]) : 180, 120);
        guint free_pct = CLAMP(argc > 2 ? atoi(argv[2]) : 15, 5, 19);
        const guint checkpoints[N_CHECKPOINTS] = {30, 60, 120, seconds};
        g_autoptr(GError) error = NULL;
        g_autoptr(VtKsmSysfs) sysfs = vt_ksm_sysfs_new(NULL, &error);
        g_autoptr(VtKsmSysfsSettings) saved = NULL;
        Run runs[2] = {{.name = "vmtide"}, {.name = "ksmtuned (real)"}};
        VtKsmHost host;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (sysfs == NULL || geteuid() != 0 || !g_file_test(KSMTUNED, G_FILE_TEST_EXISTS)) {
                fprintf(stderr, "bench-ksm-real: %s\n",
                        sysfs ? "needs root and " KSMTUNED " (apt-get install ksmtuned)"
                              : error->message);
                return 1;
        }
        saved = vt_ksm_sysfs_save(sysfs, &error);
        if (saved == NULL)
                g_error("%s", error->message);
        main_pid = getpid();
        guard_sysfs = sysfs;
        guard_saved = saved;
        atexit(cleanup);
        signal(SIGINT, guard_signal);
        signal(SIGTERM, guard_signal);
        signal(SIGHUP, guard_signal);
        signal(SIGABRT, guard_signal);
        signal(SIGTRAP, guard_signal);
        for (guint i = 0; i < N_WORKERS; i++)
                workers[i] = spawn(worker_fn, i);
        read_host(&host);
        hog = spawn(hog_fn, host.mem_total / 100 * free_pct);
        for (int i = 0; i < 240; i++, g_usleep(500000)) {
                read_host(&host);
                if (host.mem_free * 100 < host.mem_total * free_pct + host.mem_total / 50)
                        break;
        }
        printf("# squeezed: MemFree+Buffers+Cached %.0f MiB of %.0f MiB (%.1f %%; ksmtuned's line "
               "20 %%), MemAvailable %.0f MiB\n",
               (double)host.mem_free / MIB, (double)host.mem_total / MIB,
               100.0 * (double)host.mem_free / (double)host.mem_total,
               (double)host.mem_available / MIB);
        for (guint p = 0; p < G_N_ELEMENTS(runs); p++)
                run_policy(sysfs, &runs[p], seconds, checkpoints);
        print_table(runs, G_N_ELEMENTS(runs), checkpoints);
        reset_ksm(sysfs);
        cleanup();
        printf("# KSM settings restored; ksmtuned's log: %s\n", KSMTUNED_LOG);
        return 0;
}
