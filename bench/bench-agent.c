/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Benchmark of vmtide-agent in the test guest, seen from the host reader.
 * Not a test: it prints figures for docs/benchmarks.md.
 *
 *   push latency: from the host asking the workload to allocate 90 % of the
 *                 guest's MemAvailable to the host receiving the agent's
 *                 pushed report (reason pressure or drop); median and worst
 *   idle cost:    the agent's own CPU time and RSS, from its reports, over
 *                 an idle minute at the default 5 s interval
 *
 *   hostile:      the CPU time vmtide's host side spends on a peer that
 *                 streams as fast as it can, with no test guest needed
 *
 * Usage: bench-agent [RUNS [IDLE_S [SAMPLE_MS]]] (defaults 7, 60, the agent's
 * own 1000 ms), or bench-agent hostile KIND [SECONDS].
 *
 * The allocation runs in a thread (the workload channel is blocking) while
 * the main loop receives the agent's reports.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/agent-channel/agent-channel-reader.h"
#include "qmp/qmp-client.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

#define MIB (G_GUINT64_CONSTANT(1024) * 1024)

typedef struct {
        guint n_reports;
        guint n_pressure;
        guint n_hellos;
        VtAgentReport last;
        VtAgentReport pushed;
        gint64 pushed_us;
} Bench;

static void
on_report(VtAgentReader *reader, const VtAgentReport *report, gpointer data)
{
        Bench *b = data;

        b->n_reports++;
        vt_agent_report_clear(&b->last);
        vt_agent_report_copy(report, &b->last);
}

static void
on_pressure(VtAgentReader *reader, const VtAgentReport *report, gpointer data)
{
        Bench *b = data;

        if (b->n_pressure++ == 0) {
                b->pushed_us = g_get_monotonic_time();
                vt_agent_report_copy(report, &b->pushed);
        }
}

static void
on_hello(VtAgentReader *reader, const VtAgentReport *hello, gpointer data)
{
        ((Bench *)data)->n_hellos++;
}

static void
wait_counter_above(const guint *counter, guint above)
{
        if (!vt_test_wait_above(counter, above, VT_TEST_GUARD_US))
                g_error("the agent never answered");
}

static void
request_report(VtAgentReader *reader, Bench *b)
{
        g_autoptr(GError) error = NULL;
        guint before = b->n_reports;

        if (!vt_agent_reader_request_report(reader, &error))
                g_error("report-now: %s", error->message);
        wait_counter_above(&b->n_reports, before);
}

static gboolean
on_timer(gpointer data)
{
        *(gboolean *)data = TRUE;
        return G_SOURCE_REMOVE;
}

static gboolean
flag_set(gpointer data)
{
        return *(gboolean *)data;
}

/* Lets the main loop run for @ms (a benchmark may pace itself). */
static void
idle_for(guint ms)
{
        gboolean done = FALSE;

        g_timeout_add(ms, on_timer, &done);
        vt_test_run_until(flag_set, &done, (gint64)ms * 1000 + VT_TEST_GUARD_US);
}

typedef struct {
        VtTestGuest *guest;
        char *command;
        char *reply;
        GError *error;
} Workload;

static gpointer
workload_thread(gpointer data)
{
        Workload *w = data;

        w->reply = vt_test_guest_workload(w->guest, w->command, 0, &w->error);
        return NULL;
}

static int
compare_gint64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a;
        gint64 y = *(const gint64 *)b;

        return x < y ? -1 : x > y;
}

/*
 * Hostile peers. A child process plays the guest's side of a socket (the
 * agent's chardev, or QEMU's QMP monitor) and streams one block over and
 * over, as fast as the socket takes it, accepting again whenever the host
 * side reconnects. The parent is the host side alone, so its getrusage()
 * is what such a peer costs vmtided. Only API that predates the budgets is
 * used, so the same file measures the tree before them.
 */
typedef enum {
        HOSTILE_RANDOM,     /* agent: random bytes */
        HOSTILE_LINES,      /* agent: valid report lines */
        HOSTILE_QMP_EVENTS, /* QMP: BALLOON_CHANGE events after the handshake */
        HOSTILE_QMP_RANDOM, /* QMP: random bytes after the handshake */
        HOSTILE_MAX,
} HostileKind;

static const char *const hostile_kinds[HOSTILE_MAX] = {"random", "lines", "qmp-events",
                                                       "qmp-random"};

static GString *
hostile_block(HostileKind kind)
{
        GString *block = g_string_new(NULL);
        g_autoptr(GRand) rand = g_rand_new_with_seed(16);

        while (block->len < 64 * 1024) {
                switch (kind) {
                case HOSTILE_LINES:
                        g_string_append_printf(
                            block,
                            "{\"v\":1,\"type\":\"report\",\"seq\":%u,\"reason\":\"periodic\","
                            "\"uptime_ms\":%u,\"interval_ms\":5000,\"mem\":{\"total\":536870912,"
                            "\"available\":268435456},\"vm\":{\"pgmajfault\":%u}}\n",
                            (guint)block->len + 1, (guint)block->len, (guint)block->len);
                        break;
                case HOSTILE_QMP_EVENTS:
                        g_string_append(block, "{\"timestamp\": {\"seconds\": 1795507584, "
                                               "\"microseconds\": 5}, \"event\": "
                                               "\"BALLOON_CHANGE\", \"data\": {\"actual\": "
                                               "268435456}}\r\n");
                        break;
                case HOSTILE_RANDOM:
                case HOSTILE_QMP_RANDOM:
                case HOSTILE_MAX:
                default:
                        g_string_append_c(block, (char)g_rand_int_range(rand, 0, 256));
                        break;
                }
        }
        return block;
}

/* The QMP handshake, as QEMU does it: the client's first command has id 1. */
static gboolean
hostile_handshake(int fd)
{
        static const char greeting[] = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, "
                                       "\"minor\": 2, \"major\": 7}, \"package\": \"\"}, "
                                       "\"capabilities\": [\"oob\"]}}\r\n";
        static const char reply[] = "{\"return\": {}, \"id\": 1}\r\n";
        char buffer[512];
        gsize got = 0;

        if (send(fd, greeting, strlen(greeting), MSG_NOSIGNAL) < 0)
                return FALSE;
        while (got == 0 || memchr(buffer, '\n', got) == NULL) {
                ssize_t n = recv(fd, buffer + got, sizeof(buffer) - got, 0);

                if (n <= 0 || (got += (gsize)n) == sizeof(buffer))
                        return FALSE;
        }
        return send(fd, reply, strlen(reply), MSG_NOSIGNAL) > 0;
}

G_GNUC_NORETURN static void
hostile_peer(int listen_fd, HostileKind kind, guint64 *sent)
{
        g_autoptr(GString) block = hostile_block(kind);

        for (;;) {
                int fd = accept(listen_fd, NULL, NULL);

                if (fd < 0 && errno == EINTR)
                        continue;
                if (fd < 0)
                        _exit(1);
                if (kind < HOSTILE_QMP_EVENTS || hostile_handshake(fd)) {
                        for (;;) {
                                ssize_t n = send(fd, block->str, block->len, MSG_NOSIGNAL);

                                if (n <= 0)
                                        break;
                                __atomic_add_fetch(sent, (guint64)n, __ATOMIC_RELAXED);
                        }
                }
                close(fd);
        }
}

typedef struct {
        gboolean flag;
        gint64 deadline_us;
} HostileWait;

static gboolean
hostile_flag_or_deadline(gpointer data)
{
        HostileWait *w = data;

        return w->flag || g_get_monotonic_time() >= w->deadline_us;
}

/* Runs the main loop until @w's flag is set or its deadline passes. */
static void
hostile_run(HostileWait *w)
{
        while (!hostile_flag_or_deadline(w)) {
                gboolean timer = FALSE;
                GSource *tick = g_timeout_source_new(100);

                g_source_set_callback(tick, on_timer, &timer, NULL);
                g_source_attach(tick, NULL);
                while (!timer && !hostile_flag_or_deadline(w))
                        g_main_context_iteration(NULL, TRUE);
                g_source_destroy(tick);
                g_source_unref(tick);
        }
}

static void
hostile_on_event(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
                 gpointer user_data)
{
        (*(guint64 *)user_data)++;
}

static void
hostile_on_disconnected(VtQmpClient *client, const GError *error, gpointer user_data)
{
        ((HostileWait *)user_data)->flag = TRUE;
}

static void
hostile_on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
        ((HostileWait *)user_data)->flag = TRUE;
}

/* QMP clients, one after the other as the backend makes them, until @end_us. */
static void
hostile_qmp(const char *path, gint64 end_us)
{
        g_autofree char *address = g_strconcat("unix:", path, NULL);
        guint64 n_events = 0, n_dropped = 0;
        guint n_connects = 0, n_lost = 0;

        while (g_get_monotonic_time() < end_us) {
                g_autoptr(VtQmpClient) client = vt_qmp_client_new();
                HostileWait connected = {FALSE, end_us};
                HostileWait lost = {FALSE, end_us};
                HostileWait pause = {FALSE, MIN(g_get_monotonic_time() + G_USEC_PER_SEC, end_us)};

                g_signal_connect(client, "event", G_CALLBACK(hostile_on_event), &n_events);
                g_signal_connect(client, "disconnected", G_CALLBACK(hostile_on_disconnected),
                                 &lost);
                vt_qmp_client_connect_async(client, address, hostile_on_connected, &connected);
                hostile_run(&connected);
                n_connects += vt_qmp_client_is_connected(client);
                hostile_run(&lost);
                n_lost += lost.flag;
                n_dropped += vt_qmp_client_get_n_dropped(client);
                vt_qmp_client_close(client);
                g_signal_handlers_disconnect_by_data(client, &lost);
                g_signal_handlers_disconnect_by_data(client, &n_events);
                /* Sooner than the QMP-direct backend, which waits 30 s
                 * after a loss: the worst case. */
                if (lost.flag || !connected.flag)
                        hostile_run(&pause);
                /* The connect callback may still be due: let it run. */
                while (g_main_context_iteration(NULL, FALSE))
                        ;
        }
        printf("host side: %u connections, %u lost, %" G_GUINT64_FORMAT
               " events, %" G_GUINT64_FORMAT " messages dropped\n",
               n_connects, n_lost, n_events, n_dropped);
}

static void
hostile_agent(const char *path, gint64 end_us)
{
        g_autoptr(VtAgentReader) reader = vt_agent_reader_new(path);
        const VtAgentReaderCounters *c;
        HostileWait wait = {FALSE, end_us};

        vt_agent_reader_start(reader);
        hostile_run(&wait);
        c = vt_agent_reader_get_counters(reader);
        printf("host side: %" G_GUINT64_FORMAT " connections, %" G_GUINT64_FORMAT
               " lines (%" G_GUINT64_FORMAT " malformed, %" G_GUINT64_FORMAT
               " rate-limited, %" G_GUINT64_FORMAT " reports)\n",
               c->n_connects, c->n_lines, c->n_malformed, c->n_rate_limited, c->n_reports);
        vt_agent_reader_stop(reader);
}

static double
hostile_cpu_s(void)
{
        struct rusage usage;

        getrusage(RUSAGE_SELF, &usage);
        return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
               (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

static int
bench_hostile(const char *kind_name, guint seconds)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_dir_make_tmp("bench-hostile-XXXXXX", &error);
        g_autofree char *path = NULL;
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        guint64 *sent;
        HostileKind kind = HOSTILE_MAX;
        double cpu0, cpu1;
        gint64 t0, t1;
        int listen_fd;
        pid_t child;

        for (guint i = 0; i < HOSTILE_MAX; i++)
                if (g_str_equal(kind_name, hostile_kinds[i]))
                        kind = (HostileKind)i;
        if (kind == HOSTILE_MAX || dir == NULL) {
                fprintf(stderr, "bench-agent: hostile: KIND is random, lines, qmp-events or "
                                "qmp-random\n");
                return 2;
        }
        path = g_build_filename(dir, "peer.sock", NULL);
        g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
            listen(listen_fd, 8) < 0)
                g_error("cannot listen on '%s': %s", path, g_strerror(errno));
        sent = mmap(NULL, sizeof(*sent), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        g_assert(sent != MAP_FAILED);
        child = fork();
        if (child == 0)
                hostile_peer(listen_fd, kind, sent);
        close(listen_fd);

        cpu0 = hostile_cpu_s();
        t0 = g_get_monotonic_time();
        if (kind < HOSTILE_QMP_EVENTS)
                hostile_agent(path, t0 + (gint64)seconds * G_USEC_PER_SEC);
        else
                hostile_qmp(path, t0 + (gint64)seconds * G_USEC_PER_SEC);
        t1 = g_get_monotonic_time();
        cpu1 = hostile_cpu_s();

        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        printf("%s for %.1f s: the peer got %.1f MB into the socket; the host side spent "
               "%.3f CPU-seconds, %.2f %% of a core\n",
               kind_name, (double)(t1 - t0) / G_USEC_PER_SEC, (double)*sent / 1e6, cpu1 - cpu0,
               100.0 * (cpu1 - cpu0) * G_USEC_PER_SEC / (double)(t1 - t0));
        munmap(sent, sizeof(*sent));
        g_unlink(path);
        g_rmdir(dir);
        return 0;
}

int
main(int argc, char **argv)
{
        guint runs = argc > 1 ? (guint)atoi(argv[1]) : 7;
        guint idle_s = argc > 2 ? (guint)atoi(argv[2]) : 60;
        g_autofree char *kernel_args =
            argc > 3 ? g_strdup_printf("vt.agent=--sample-ms=%s", argv[3]) : NULL;
        const VtTestGuestOptions options = {
            .name = "bench-agent", .memory_bytes = 512 * MIB, .kernel_args = kernel_args};
        g_autoptr(VtTestGuest) guest = NULL;
        g_autoptr(VtAgentReader) reader = NULL;
        g_autoptr(GArray) latencies = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        guint reasons[VT_AGENT_REASON_MAX] = {0};
        guint64 cpu0, cpu1;
        gint64 t0, t1;
        Bench b = {0};

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc > 2 && g_str_equal(argv[1], "hostile"))
                return bench_hostile(argv[2], argc > 3 ? (guint)atoi(argv[3]) : 10);
        if (!vt_test_guest_available(&reason)) {
                fprintf(stderr, "bench-agent: %s\n", reason);
                return 1;
        }
        guest = vt_test_guest_start(&options, &error);
        if (guest == NULL) {
                fprintf(stderr, "bench-agent: %s\n", error->message);
                return 1;
        }
        reader = vt_agent_reader_new(vt_test_guest_get_agent_path(guest));
        g_signal_connect(reader, "report", G_CALLBACK(on_report), &b);
        g_signal_connect(reader, "pressure", G_CALLBACK(on_pressure), &b);
        g_signal_connect(reader, "hello", G_CALLBACK(on_hello), &b);
        vt_agent_reader_start(reader);
        wait_counter_above(&b.n_hellos, 0);

        for (guint i = 0; i < runs; i++) {
                Workload work = {.guest = guest};
                GThread *thread;
                gint64 start, latency;
                g_autofree char *freed = NULL;

                request_report(reader, &b);
                work.command =
                    g_strdup_printf("alloc %" G_GUINT64_FORMAT, b.last.mem_available / 10 * 9);
                b.n_pressure = 0;
                vt_agent_report_clear(&b.pushed);
                start = g_get_monotonic_time();
                thread = g_thread_new("workload", workload_thread, &work);
                wait_counter_above(&b.n_pressure, 0);
                latency = b.pushed_us - start;
                g_thread_join(thread);
                g_array_append_val(latencies, latency);
                reasons[b.pushed.reason]++;
                printf("run %u: %s report after %" G_GINT64_FORMAT " ms (workload: %s)\n", i + 1,
                       vt_agent_reason_to_string(b.pushed.reason), latency / 1000,
                       work.reply ? work.reply : work.error->message);
                freed = vt_test_guest_workload(guest, "free", 0, NULL);
                g_clear_error(&work.error);
                g_free(work.reply);
                g_free(work.command);
                /* Let PSI's trigger window and the 1 s MemAvailable sampling pass. */
                idle_for(3000);
        }
        g_array_sort(latencies, compare_gint64);
        printf("agent sampling MemAvailable every %s ms\n", argc > 3 ? argv[3] : "1000");
        printf("push latency over %u runs: median %" G_GINT64_FORMAT " ms, worst %" G_GINT64_FORMAT
               " ms (reasons: %u pressure, %u drop)\n",
               runs, g_array_index(latencies, gint64, latencies->len / 2) / 1000,
               g_array_index(latencies, gint64, latencies->len - 1) / 1000,
               reasons[VT_AGENT_REASON_PRESSURE], reasons[VT_AGENT_REASON_DROP]);

        /* Idle cost at the default interval, from the agent's own numbers. */
        if (!vt_agent_reader_set_interval(reader, 5000, &error))
                g_error("set-interval: %s", error->message);
        idle_for(5000);
        request_report(reader, &b);
        cpu0 = b.last.agent_cpu_us;
        t0 = b.last.received_us;
        idle_for(idle_s * 1000);
        request_report(reader, &b);
        cpu1 = b.last.agent_cpu_us;
        t1 = b.last.received_us;
        printf("idle agent over %.0f s: %.4f %% of a CPU (%" G_GUINT64_FORMAT
               " us), RSS %" G_GUINT64_FORMAT " KiB\n",
               (double)(t1 - t0) / G_USEC_PER_SEC,
               100.0 * (double)(cpu1 - cpu0) / (double)(t1 - t0), cpu1 - cpu0,
               b.last.agent_rss_bytes / 1024);

        vt_agent_reader_stop(reader);
        vt_agent_report_clear(&b.last);
        vt_agent_report_clear(&b.pushed);
        return 0;
}
