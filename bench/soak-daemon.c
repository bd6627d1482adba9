/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The soak: vmtided for tens of minutes under real guests and hostile peers; does it grow? */

/*
 * Theory of operation
 *
 * Three 512 MiB test guests boot under QEMU (bench/bench-daemon.c) and a
 * real vmtided (tests/vt-test-daemon.c) manages them under a 1700 MiB
 * budget, beside a fourth guest, `hostile`, whose agent streams garbage
 * and valid lines at 1 MiB/s and whose QMP peer floods BALLOON_CHANGE
 * events and hangs up every so often, and control-socket clients that
 * connect every few seconds and idle, send garbage, or ask and leave
 * (bench/soak-peers.c). The budget is below what the four guests boot
 * with, so the policy keeps working.
 *
 * The guests loop: every WORKLOAD_STEP_MS one guest (in turn) takes one
 * step of its cycle: allocate ALLOC_STEP until its peak (96, 128 and
 * 160 MiB), hold, free, rest; the third guest also dirties a 32 MiB
 * buffer at 4 MiB/s while it holds. A workload that does not answer or
 * was OOM-killed is counted, not fatal. `vmtide list` runs every
 * CLI_EVERY_S and must answer.
 *
 * Every --interval seconds the soak reads vmtided's RSS (VmRSS of
 * /proc/PID/status), its open file descriptors (entries of /proc/PID/fd)
 * and its CPU time (utime + stime of /proc/PID/stat) and appends them,
 * with what the peers did so far, to a CSV file. At the end:
 *
 * - the first quarter of the samples is warm-up (the guests settle, the
 *   allocator reaches its working set) and is not judged;
 * - growth is the median of the last quarter minus the median of the
 *   second: a leak is a steady slope and shows as a difference, while a
 *   single spike does not move a median. The least-squares slope over
 *   the judged samples is printed beside it. VmRSS and RssAnon (the
 *   heap and other private memory) are judged alike: VmRSS also grows
 *   when a rare code path first touches a page of the binary;
 * - CPU is judged as a share of one core over each quarter: the last
 *   quarter may not cost much more than the second (work growing with
 *   time: timers or sources piling up), and the judged part as a whole
 *   stays under a cap;
 * - the daemon must still be running, manage the three guests, and have
 *   answered every `vmtide list`.
 *
 * The verdict is printed with each figure and its threshold; the exit
 * status is 0 when nothing grew, 1 otherwise (2 for bad options).
 */
#include <dirent.h>
#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench-daemon.h"
#include "bench/soak-peers.h"

#define MIB              (G_GUINT64_CONSTANT(1) << 20)
#define WORKLOAD_STEP_MS 2000
#define WORKLOAD_US      (30 * G_USEC_PER_SEC)
#define ALLOC_STEP       (32 * MIB)
#define HOLD_STEPS       4
#define REST_STEPS       4
#define DIRTY_RATE       (4 * MIB)
#define DIRTY_BYTES      (32 * MIB)
#define CLI_EVERY_S      30
#define PROGRESS_EVERY_S 60

static const char config_text[] = "[daemon]\n"
                                  "tick-interval-ms = 1000\n"
                                  "agent-interval-ms = 1000\n"
                                  "[budget]\n"
                                  "total = 1700M\n"
                                  "reserve = 0\n"
                                  "[ksm]\n"
                                  "enabled = false\n";

/**
 * SoakOptions:
 * @minutes: how long to run
 * @interval_s: seconds between samples
 * @csv: where the samples go
 * @rss_growth_kib: the RSS growth allowed (median of Q4 − median of Q2)
 * @fd_growth: the growth in open descriptors allowed
 * @cpu_max_percent: the judged part's CPU share cap, percent of a core
 * @cpu_growth_points: how many points of a core Q4's share may exceed
 *     1.5 times Q2's
 * @agent_kib_per_s: the hostile agent's rate
 * @qmp_burst: BALLOON_CHANGE events before each of the hostile QMP's replies
 */
typedef struct {
        double minutes;
        int interval_s;
        char *csv;
        int rss_growth_kib;
        int fd_growth;
        double cpu_max_percent;
        double cpu_growth_points;
        int agent_kib_per_s;
        int qmp_burst;
} SoakOptions;

typedef struct {
        gint64 t_us;
        gint64 rss_kib;
        gint64 anon_kib;
        gint64 fds;
        gint64 cpu_us;
} Sample;

typedef struct {
        SoakOptions options;
        VtBench *bench;
        VtSoakPeers *peers;
        GArray *samples;
        FILE *csv;
        GMainLoop *loop;
        gint64 start_us;
        gint64 next_cli_us;
        gint64 next_progress_us;
        gboolean interrupted;
        gboolean daemon_lost;
        guint sample_timer;

        guint step; /* workload steps taken, all guests */
        guint phase[VT_BENCH_N_GUESTS];
        guint64 held[VT_BENCH_N_GUESTS];
        guint n_cycles;
        guint n_workload_errors;
        guint n_cli;
        guint n_cli_failed;
} Soak;

/* --- reading /proc ---------------------------------------------------------- */

/* A `VmRSS:`-style line of /proc/PID/status, in KiB; -1 if absent. */
static gint64
proc_status_kib(GPid pid, const char *key)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
        g_autofree char *text = NULL;
        const char *line;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return -1;
        line = strstr(text, key);
        return line != NULL ? g_ascii_strtoll(line + strlen(key), NULL, 10) : -1;
}

static gint64
proc_fds(GPid pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/fd", (int)pid);
        DIR *dir = opendir(path);
        struct dirent *entry;
        gint64 n = 0;

        if (dir == NULL)
                return -1;
        while ((entry = readdir(dir)) != NULL)
                if (entry->d_name[0] != '.')
                        n++;
        closedir(dir);
        return n;
}

/* utime + stime, microseconds; -1 if unreadable. */
static gint64
proc_cpu_us(GPid pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
        g_autofree char *text = NULL;
        g_auto(GStrv) fields = NULL;
        const char *after_comm;
        long hz = sysconf(_SC_CLK_TCK);

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return -1;
        after_comm = strrchr(text, ')');
        if (after_comm == NULL || hz <= 0)
                return -1;
        /* From field 3 (state) on; utime and stime are fields 14 and 15. */
        fields = g_strsplit(after_comm + 2, " ", 14);
        if (g_strv_length(fields) < 14)
                return -1;
        return (g_ascii_strtoll(fields[11], NULL, 10) + g_ascii_strtoll(fields[12], NULL, 10)) *
               G_USEC_PER_SEC / hz;
}

/* --- the workload ------------------------------------------------------------ */

static guint64
guest_peak(guint i)
{
        return (96 + 32 * (guint64)i) * MIB;
}

/* Sends one command; an error or an `err` reply is counted, not fatal. */
static void
workload_command(Soak *soak, guint i, const char *command)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply =
            vt_test_guest_workload(soak->bench->guests[i], command, WORKLOAD_US, &error);

        if (reply == NULL || !g_str_has_prefix(reply, "ok")) {
                soak->n_workload_errors++;
                fprintf(stderr, "soak: %s: '%s': %s\n", vt_bench_guest_name(soak->bench, i),
                        command, reply != NULL ? reply : error->message);
        }
}

/* One step of guest @i's cycle: allocate up to its peak, hold, free, rest. */
static void
workload_step(Soak *soak, guint i)
{
        guint64 peak = guest_peak(i);
        guint alloc_steps = (guint)(peak / ALLOC_STEP);
        guint phase = soak->phase[i]++;
        g_autofree char *command = NULL;

        if (phase < alloc_steps) {
                command = g_strdup_printf("alloc %" G_GUINT64_FORMAT, ALLOC_STEP);
                workload_command(soak, i, command);
        } else if (phase == alloc_steps && i == VT_BENCH_N_GUESTS - 1) {
                command = g_strdup_printf("dirty %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                                          DIRTY_RATE, DIRTY_BYTES);
                workload_command(soak, i, command);
        } else if (phase == alloc_steps + HOLD_STEPS) {
                if (i == VT_BENCH_N_GUESTS - 1)
                        workload_command(soak, i, "dirty 0 0");
                workload_command(soak, i, "free");
        } else if (phase >= alloc_steps + HOLD_STEPS + REST_STEPS) {
                soak->phase[i] = 0;
                soak->n_cycles++;
        }
}

static gboolean
on_workload_timer(gpointer data)
{
        Soak *soak = data;

        workload_step(soak, soak->step++ % VT_BENCH_N_GUESTS);
        return G_SOURCE_CONTINUE;
}

/* --- samples ----------------------------------------------------------------- */

static void
csv_header(Soak *soak)
{
        fprintf(soak->csv,
                "seconds,rss_kib,anon_kib,fds,cpu_ms,cpu_percent,agent_connections,agent_kib,"
                "agent_lines,qmp_connections,qmp_events,control_idle,control_garbage,"
                "control_good,control_failed,cli_failed,workload_cycles,"
                "workload_errors\n");
}

static void
csv_row(Soak *soak, const Sample *s, double cpu_percent)
{
        VtSoakCounts c;

        vt_soak_peers_get_counts(soak->peers, &c);
        fprintf(soak->csv,
                "%.1f,%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                ",%" G_GINT64_FORMAT ",%.2f,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u\n",
                (double)(s->t_us - soak->start_us) / G_USEC_PER_SEC, s->rss_kib, s->anon_kib,
                s->fds, s->cpu_us / 1000, cpu_percent, c.agent_connections, c.agent_kib,
                c.agent_lines, c.qmp_connections, c.qmp_events, c.control_idle, c.control_garbage,
                c.control_good, c.control_failed, soak->n_cli_failed, soak->n_cycles,
                soak->n_workload_errors);
        fflush(soak->csv);
}

static void
progress(Soak *soak, const Sample *s)
{
        VtSoakCounts c;

        vt_soak_peers_get_counts(soak->peers, &c);
        printf("soak: %5.1f min: RSS %" G_GINT64_FORMAT " KiB, %" G_GINT64_FORMAT
               " fds, CPU %.1f s; agent %u connections %u MiB, QMP %u connections %u events, "
               "%u control clients, %u workload cycles\n",
               (double)(s->t_us - soak->start_us) / 60e6, s->rss_kib, s->fds,
               (double)s->cpu_us / 1e6, c.agent_connections, c.agent_kib / 1024, c.qmp_connections,
               c.qmp_events, c.control_idle + c.control_garbage + c.control_good, soak->n_cycles);
}

static void
check_cli(Soak *soak)
{
        g_autofree char *err = NULL;
        int status = vt_test_daemon_run_cli(soak->bench->daemon, NULL, &err, "list", NULL);

        soak->n_cli++;
        if (status != 0) {
                soak->n_cli_failed++;
                fprintf(stderr, "soak: 'vmtide list' exited %d: %s", status, err ? err : "\n");
        }
}

static gboolean
on_sample_timer(gpointer data)
{
        Soak *soak = data;
        GPid pid = vt_test_daemon_get_pid(soak->bench->daemon);
        Sample s = {g_get_monotonic_time(), proc_status_kib(pid, "\nVmRSS:"),
                    proc_status_kib(pid, "\nRssAnon:"), proc_fds(pid), proc_cpu_us(pid)};
        double cpu_percent = 0;

        if (s.rss_kib < 0 || s.anon_kib < 0 || s.fds < 0 || s.cpu_us < 0) {
                soak->daemon_lost = TRUE;
                soak->sample_timer = 0;
                g_main_loop_quit(soak->loop);
                return G_SOURCE_REMOVE;
        }
        if (soak->samples->len > 0) {
                const Sample *last = &g_array_index(soak->samples, Sample, soak->samples->len - 1);

                cpu_percent =
                    100.0 * (double)(s.cpu_us - last->cpu_us) / (double)(s.t_us - last->t_us);
        }
        g_array_append_val(soak->samples, s);
        csv_row(soak, &s, cpu_percent);
        if (s.t_us >= soak->next_cli_us) {
                check_cli(soak);
                soak->next_cli_us = s.t_us + CLI_EVERY_S * G_USEC_PER_SEC;
        }
        if (s.t_us >= soak->next_progress_us) {
                progress(soak, &s);
                soak->next_progress_us = s.t_us + PROGRESS_EVERY_S * G_USEC_PER_SEC;
        }
        if (s.t_us - soak->start_us >= (gint64)(soak->options.minutes * 60e6))
                g_main_loop_quit(soak->loop);
        return G_SOURCE_CONTINUE;
}

/* --- the verdict ------------------------------------------------------------- */

static int
compare_gint64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a;
        gint64 y = *(const gint64 *)b;

        return x < y ? -1 : x > y;
}

/* The median of one member (at @offset in Sample) over samples [from, to). */
static gint64
median(GArray *samples, guint from, guint to, gsize offset)
{
        g_autoptr(GArray) values = g_array_new(FALSE, FALSE, sizeof(gint64));

        for (guint i = from; i < to; i++)
                g_array_append_val(
                    values, G_STRUCT_MEMBER(gint64, &g_array_index(samples, Sample, i), offset));
        g_array_sort(values, compare_gint64);
        return g_array_index(values, gint64, values->len / 2);
}

/* CPU share of one core, percent, between samples @from and @to. */
static double
cpu_share(GArray *samples, guint from, guint to)
{
        const Sample *a = &g_array_index(samples, Sample, from);
        const Sample *b = &g_array_index(samples, Sample, to);

        return b->t_us > a->t_us
                   ? 100.0 * (double)(b->cpu_us - a->cpu_us) / (double)(b->t_us - a->t_us)
                   : 0;
}

/* Least-squares slope of one member (at @offset) over samples [from, to), per hour. */
static double
slope_per_hour(GArray *samples, guint from, guint to, gsize offset)
{
        double n = to - from, sx = 0, sy = 0, sxx = 0, sxy = 0;

        for (guint i = from; i < to; i++) {
                const Sample *s = &g_array_index(samples, Sample, i);
                double x = (double)s->t_us / 3600e6, y = (double)G_STRUCT_MEMBER(gint64, s, offset);

                sx += x;
                sy += y;
                sxx += x * x;
                sxy += x * y;
        }
        return n * sxx - sx * sx > 0 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0;
}

static gboolean judge(const char *what, gboolean ok, const char *format, ...) G_GNUC_PRINTF(3, 4);

static gboolean
judge(const char *what, gboolean ok, const char *format, ...)
{
        g_autofree char *text = NULL;
        va_list ap;

        va_start(ap, format);
        text = g_strdup_vprintf(format, ap);
        va_end(ap);
        printf("soak: %-4s %-8s %s\n", ok ? "ok" : "FAIL", what, text);
        return ok;
}

/* The growth of RSS and descriptors, the CPU share. */
static gboolean
verdict_samples(Soak *soak)
{
        GArray *s = soak->samples;
        guint n = s->len, q = n / 4;
        const Sample *first = &g_array_index(s, Sample, 0),
                     *last = &g_array_index(s, Sample, n - 1);
        gint64 rss2 = median(s, q, 2 * q, G_STRUCT_OFFSET(Sample, rss_kib));
        gint64 rss4 = median(s, n - q, n, G_STRUCT_OFFSET(Sample, rss_kib));
        gint64 anon2 = median(s, q, 2 * q, G_STRUCT_OFFSET(Sample, anon_kib));
        gint64 anon4 = median(s, n - q, n, G_STRUCT_OFFSET(Sample, anon_kib));
        gint64 fd2 = median(s, q, 2 * q, G_STRUCT_OFFSET(Sample, fds));
        gint64 fd4 = median(s, n - q, n, G_STRUCT_OFFSET(Sample, fds));
        double cpu2 = cpu_share(s, q, 2 * q - 1), cpu4 = cpu_share(s, n - q, n - 1);
        double cpu_all = cpu_share(s, q, n - 1);
        const SoakOptions *o = &soak->options;
        gboolean ok = TRUE;

        printf("soak: %u samples over %.1f min; warm-up: the first %u; judged: Q2 [%u, %u) "
               "against Q4 [%u, %u)\n",
               n, (double)(last->t_us - first->t_us) / 60e6, q, q, 2 * q, n - q, n);
        ok &= judge("rss", rss4 - rss2 <= o->rss_growth_kib,
                    "start %" G_GINT64_FORMAT " KiB, end %" G_GINT64_FORMAT
                    " KiB, median Q2 %" G_GINT64_FORMAT " KiB, Q4 %" G_GINT64_FORMAT
                    " KiB: growth %+" G_GINT64_FORMAT " KiB (at most %d); slope %+.0f KiB/h",
                    first->rss_kib, last->rss_kib, rss2, rss4, rss4 - rss2, o->rss_growth_kib,
                    slope_per_hour(s, q, n, G_STRUCT_OFFSET(Sample, rss_kib)));
        /* Code pages first touched late (a rare path) grow VmRSS too; the heap alone: */
        ok &= judge("anon", anon4 - anon2 <= o->rss_growth_kib,
                    "start %" G_GINT64_FORMAT " KiB, end %" G_GINT64_FORMAT
                    " KiB, median Q2 %" G_GINT64_FORMAT " KiB, Q4 %" G_GINT64_FORMAT
                    " KiB: growth %+" G_GINT64_FORMAT " KiB (at most %d); slope %+.0f KiB/h",
                    first->anon_kib, last->anon_kib, anon2, anon4, anon4 - anon2, o->rss_growth_kib,
                    slope_per_hour(s, q, n, G_STRUCT_OFFSET(Sample, anon_kib)));
        ok &= judge("fds", fd4 - fd2 <= o->fd_growth,
                    "start %" G_GINT64_FORMAT ", end %" G_GINT64_FORMAT
                    ", median Q2 %" G_GINT64_FORMAT ", Q4 %" G_GINT64_FORMAT
                    ": growth %+" G_GINT64_FORMAT " (at most %d)",
                    first->fds, last->fds, fd2, fd4, fd4 - fd2, o->fd_growth);
        ok &=
            judge("cpu", cpu4 <= 1.5 * cpu2 + o->cpu_growth_points && cpu_all <= o->cpu_max_percent,
                  "%.1f s in all; share of a core: Q2 %.2f %%, Q4 %.2f %% (at most 1.5 x Q2 + "
                  "%.1f), after warm-up %.2f %% (at most %.1f)",
                  (double)last->cpu_us / 1e6, cpu2, cpu4, o->cpu_growth_points, cpu_all,
                  o->cpu_max_percent);
        return ok;
}

/* The daemon alive, the three guests managed, the CLI answered. */
static gboolean
verdict_daemon(Soak *soak)
{
        guint managed = 0;
        gboolean ok = TRUE;

        for (guint i = 0; i < VT_BENCH_N_GUESTS && !soak->daemon_lost; i++)
                managed += vt_bench_guest_int(soak->bench, i, "actual") > 0;
        ok &=
            judge("daemon", !soak->daemon_lost && managed == VT_BENCH_N_GUESTS,
                  "%s; %u of %u guests managed at the end",
                  soak->daemon_lost ? "vmtided went away" : "running", managed, VT_BENCH_N_GUESTS);
        ok &= judge("cli", soak->n_cli_failed == 0, "%u of %u 'vmtide list' answered",
                    soak->n_cli - soak->n_cli_failed, soak->n_cli);
        return ok;
}

static void
print_counts(Soak *soak)
{
        VtTestDaemon *daemon = soak->bench->daemon;
        VtSoakCounts c;

        vt_soak_peers_get_counts(soak->peers, &c);
        printf("soak: hostile agent: %u connections, %u MiB sent, %u valid lines among them; "
               "hostile QMP: %u connections, %u commands, %u events\n",
               c.agent_connections, c.agent_kib / 1024, c.agent_lines, c.qmp_connections,
               c.qmp_commands, c.qmp_events);
        printf("soak: control clients: %u idle, %u garbage, %u good, %u refused or unanswered; "
               "workload: %u cycles, %u errors\n",
               c.control_idle, c.control_garbage, c.control_good, c.control_failed, soak->n_cycles,
               soak->n_workload_errors);
        printf("soak: vmtided: %u decisions, %u guests added, %u removed (the hostile one's "
               "hang-ups)\n",
               vt_test_daemon_count_events(daemon, 0, "DECISION", NULL),
               vt_test_daemon_count_events(daemon, 0, "GUEST_ADDED", NULL),
               vt_test_daemon_count_events(daemon, 0, "GUEST_REMOVED", NULL));
}

/* --- setup ------------------------------------------------------------------- */

static void
soak_start_daemon(Soak *soak)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_build_filename(soak->bench->dir, "daemon", NULL);

        if (g_mkdir_with_parents(dir, 0755) < 0)
                g_error("%s: %s", dir, g_strerror(errno));
        soak->bench->daemon = vt_test_daemon_start(dir, config_text, &error);
        if (soak->bench->daemon == NULL)
                g_error("%s", error->message);
        for (guint i = 0; i < VT_BENCH_N_GUESTS; i++) {
                guint from = 0;

                if (!vt_test_daemon_add_guest(soak->bench->daemon, soak->bench->guests[i], &error))
                        g_error("%s", error->message);
                if (vt_test_daemon_wait_event(soak->bench->daemon, &from, "GUEST_ADDED",
                                              vt_bench_guest_name(soak->bench, i),
                                              VT_BENCH_GUARD_US) == NULL) {
                        vt_bench_daemon_dump_log(soak->bench);
                        g_error("vmtided did not take on guest '%s'",
                                vt_bench_guest_name(soak->bench, i));
                }
        }
}

static void
soak_start_peers(Soak *soak)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *greeting = NULL;
        g_autofree char *dir = g_build_filename(soak->bench->dir, "peers", NULL);
        VtSoakPeerOptions options = {
            .dir = dir,
            .guest_dir = vt_test_daemon_get_guest_dir(soak->bench->daemon),
            .control_socket = vt_test_daemon_get_socket(soak->bench->daemon),
            .agent_kib_per_s = (guint)soak->options.agent_kib_per_s,
            .qmp_burst = (guint)soak->options.qmp_burst,
            .qmp_hangup_every = 120,
            .control_round_ms = 3000,
        };

        if (!g_file_get_contents(VT_RECORDED_QMP_DIR "/greeting.json", &greeting, NULL, &error))
                g_error("%s", error->message);
        options.greeting = greeting;
        if (g_mkdir_with_parents(dir, 0755) < 0)
                g_error("%s: %s", dir, g_strerror(errno));
        soak->peers = vt_soak_peers_start(&options, &error);
        if (soak->peers == NULL)
                g_error("%s", error->message);
}

static gboolean
on_signal(gpointer data)
{
        Soak *soak = data;

        soak->interrupted = TRUE;
        g_main_loop_quit(soak->loop);
        return G_SOURCE_CONTINUE;
}

static gboolean
parse_options(SoakOptions *o, int *argc, char ***argv)
{
        const GOptionEntry entries[] = {
            {"minutes", 'm', 0, G_OPTION_ARG_DOUBLE, &o->minutes, "How long to run (30)", "N"},
            {"interval", 'i', 0, G_OPTION_ARG_INT, &o->interval_s, "Seconds between samples (5)",
             "S"},
            {"csv", 'o', 0, G_OPTION_ARG_FILENAME, &o->csv, "The samples (soak.csv)", "PATH"},
            {"rss-growth-kib", 0, 0, G_OPTION_ARG_INT, &o->rss_growth_kib,
             "RSS growth allowed, Q2 to Q4 medians (2048)", "KIB"},
            {"fd-growth", 0, 0, G_OPTION_ARG_INT, &o->fd_growth, "Descriptor growth allowed (4)",
             "N"},
            {"cpu-max", 0, 0, G_OPTION_ARG_DOUBLE, &o->cpu_max_percent,
             "CPU share cap after warm-up, percent of a core (25)", "PCT"},
            {"cpu-growth", 0, 0, G_OPTION_ARG_DOUBLE, &o->cpu_growth_points,
             "Q4's CPU share at most 1.5 x Q2's + this many points (2)", "PCT"},
            {"agent-kib-per-s", 0, 0, G_OPTION_ARG_INT, &o->agent_kib_per_s,
             "The hostile agent's rate (1024)", "KIB"},
            {"qmp-burst", 0, 0, G_OPTION_ARG_INT, &o->qmp_burst,
             "Events the hostile QMP peer sends before each reply (200)", "N"},
            {NULL}};
        g_autoptr(GOptionContext) context =
            g_option_context_new("- vmtided under three looping guests and hostile peers");
        g_autoptr(GError) error = NULL;

        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, argc, argv, &error)) {
                fprintf(stderr, "soak-daemon: %s\n", error->message);
                return FALSE;
        }
        if (o->minutes <= 0 || o->interval_s <= 0 || o->agent_kib_per_s <= 0 || o->qmp_burst < 0 ||
            o->minutes * 60 < 8.0 * o->interval_s) {
                fprintf(stderr, "soak-daemon: --minutes must give at least 8 samples\n");
                return FALSE;
        }
        return TRUE;
}

static gboolean
soak_run(Soak *soak)
{
        guint workload_timer;
        gboolean ok;

        soak->csv = fopen(soak->options.csv, "w");
        if (soak->csv == NULL)
                g_error("%s: %s", soak->options.csv, g_strerror(errno));
        csv_header(soak);
        soak->bench = vt_bench_new("soak");
        soak_start_daemon(soak);
        soak_start_peers(soak);
        printf("soak: vmtided %d, 3 guests and 'hostile'; %.1f min, a sample every %d s to %s\n",
               (int)vt_test_daemon_get_pid(soak->bench->daemon), soak->options.minutes,
               soak->options.interval_s, soak->options.csv);
        soak->start_us = g_get_monotonic_time();
        workload_timer = g_timeout_add(WORKLOAD_STEP_MS, on_workload_timer, soak);
        soak->sample_timer =
            g_timeout_add_seconds((guint)soak->options.interval_s, on_sample_timer, soak);
        g_main_loop_run(soak->loop);
        /* The teardown runs the main loop too: no step or sample after here. */
        g_source_remove(workload_timer);
        g_clear_handle_id(&soak->sample_timer, g_source_remove);

        print_counts(soak);
        ok = soak->samples->len >= 8 && verdict_samples(soak);
        ok &= verdict_daemon(soak);
        if (soak->interrupted)
                printf("soak: interrupted\n");
        if (!ok && !soak->daemon_lost)
                vt_bench_daemon_dump_log(soak->bench);
        return ok && !soak->interrupted;
}

int
main(int argc, char **argv)
{
        Soak soak = {.options = {.minutes = 30,
                                 .interval_s = 5,
                                 .rss_growth_kib = 2048,
                                 .fd_growth = 4,
                                 .cpu_max_percent = 25,
                                 .cpu_growth_points = 2,
                                 .agent_kib_per_s = 1024,
                                 .qmp_burst = 200}};
        g_autofree char *reason = NULL;
        gboolean ok;

        if (!parse_options(&soak.options, &argc, &argv))
                return 2;
        if (soak.options.csv == NULL)
                soak.options.csv = g_strdup("soak.csv");
        if (!vt_test_guest_available(&reason)) {
                fprintf(stderr, "soak-daemon: %s\n", reason);
                return 1;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        signal(SIGPIPE, SIG_IGN);
        soak.loop = g_main_loop_new(NULL, FALSE);
        soak.samples = g_array_new(FALSE, FALSE, sizeof(Sample));
        g_unix_signal_add(SIGINT, on_signal, &soak);
        g_unix_signal_add(SIGTERM, on_signal, &soak);

        ok = soak_run(&soak);
        printf("soak: %s\n", ok ? "no growth after warm-up" : "FAILED");
        g_clear_pointer(&soak.peers, vt_soak_peers_free);
        g_clear_pointer(&soak.bench, vt_bench_free);
        if (soak.csv != NULL)
                fclose(soak.csv);
        g_array_free(soak.samples, TRUE);
        g_main_loop_unref(soak.loop);
        g_free(soak.options.csv);
        return ok ? 0 : 1;
}
