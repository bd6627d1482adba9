/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the agent reader against a scripted guest: a listening
 * Unix socket in a temp dir plays QEMU's chardev, and the test writes what
 * a hostile or broken agent would send.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/agent-channel/agent-channel-reader.h"
#include "tests/vt-test-util.h"

#define GUARD_US (20 * G_USEC_PER_SEC)
#define DOMAIN   "vmtide-agent-channel"

typedef struct {
        char *dir;
        char *path;
        int listen_fd;
        int conn_fd;
        VtAgentReader *reader;
        guint n_reports;
        guint n_pressure;
        guint n_hellos;
        guint n_stale;
        guint n_connected;
        guint n_disconnected;
        GArray *connected_us;    /* when each "connected" came */
        GArray *disconnected_us; /* when each "disconnected" came */
        GPtrArray *log;          /* the reader's log lines, "W message" */
        guint log_handler;
} Fixture;

/* A warning is fatal in a test unless expected: the reader's are counted. */
static gboolean
log_not_fatal(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
        return g_strcmp0(domain, DOMAIN) != 0;
}

static void
on_log(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
        Fixture *f = data;

        g_ptr_array_add(
            f->log, g_strdup_printf("%c %s", (level & G_LOG_LEVEL_WARNING) ? 'W' : 'D', message));
}

/* How many of the reader's log lines have @level and contain @text. */
static guint
log_count(Fixture *f, char level, const char *text)
{
        guint n = 0;

        for (guint i = 0; i < f->log->len; i++) {
                const char *line = f->log->pdata[i];

                n += line[0] == level && strstr(line, text) != NULL;
        }
        return n;
}

static void
on_report(VtAgentReader *reader, const VtAgentReport *report, gpointer data)
{
        ((Fixture *)data)->n_reports++;
}

static void
on_pressure(VtAgentReader *reader, const VtAgentReport *report, gpointer data)
{
        g_assert_true(report->reason == VT_AGENT_REASON_PRESSURE ||
                      report->reason == VT_AGENT_REASON_DROP);
        ((Fixture *)data)->n_pressure++;
}

static void
on_hello(VtAgentReader *reader, const VtAgentReport *hello, gpointer data)
{
        ((Fixture *)data)->n_hellos++;
}

static void
on_stale(VtAgentReader *reader, gpointer data)
{
        ((Fixture *)data)->n_stale++;
}

static void
on_connected(VtAgentReader *reader, gpointer data)
{
        Fixture *f = data;
        gint64 now_us = g_get_monotonic_time();

        f->n_connected++;
        g_array_append_val(f->connected_us, now_us);
}

static void
on_disconnected(VtAgentReader *reader, const GError *error, gpointer data)
{
        Fixture *f = data;
        gint64 now_us = g_get_monotonic_time();

        f->n_disconnected++;
        g_array_append_val(f->disconnected_us, now_us);
}

static void
fixture_listen(Fixture *f)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};

        g_assert_cmpint(f->listen_fd, <, 0);
        strcpy(addr.sun_path, f->path);
        f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(f->listen_fd, >=, 0);
        g_assert_cmpint(bind(f->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        g_assert_cmpint(listen(f->listen_fd, 4), ==, 0);
}

static void
fixture_unlisten(Fixture *f)
{
        if (f->conn_fd >= 0)
                close(f->conn_fd);
        if (f->listen_fd >= 0)
                close(f->listen_fd);
        f->conn_fd = f->listen_fd = -1;
        g_unlink(f->path);
}

static gboolean
connected_n(gpointer data)
{
        Fixture *f = ((gpointer *)data)[0];
        guint n = GPOINTER_TO_UINT(((gpointer *)data)[1]);

        return f->n_connected >= n;
}

/* Waits until the reader made its @n-th connection, and accepts it. */
static void
fixture_accept(Fixture *f, guint n)
{
        gpointer args[2] = {f, GUINT_TO_POINTER(n)};

        g_assert_true(vt_test_run_until(connected_n, args, GUARD_US));
        f->conn_fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        g_assert_cmpint(f->conn_fd, >=, 0);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        f->dir = g_dir_make_tmp("vt-agent-reader-XXXXXX", &error);
        g_assert_no_error(error);
        f->path = g_build_filename(f->dir, "agent.sock", NULL);
        f->listen_fd = f->conn_fd = -1;
        f->connected_us = g_array_new(FALSE, FALSE, sizeof(gint64));
        f->disconnected_us = g_array_new(FALSE, FALSE, sizeof(gint64));
        f->log = g_ptr_array_new_with_free_func(g_free);
        f->log_handler = g_log_set_handler(DOMAIN, G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL, on_log, f);
        g_test_log_set_fatal_handler(log_not_fatal, NULL);
        f->reader = vt_agent_reader_new(f->path);
        g_signal_connect(f->reader, "report", G_CALLBACK(on_report), f);
        g_signal_connect(f->reader, "pressure", G_CALLBACK(on_pressure), f);
        g_signal_connect(f->reader, "hello", G_CALLBACK(on_hello), f);
        g_signal_connect(f->reader, "stale", G_CALLBACK(on_stale), f);
        g_signal_connect(f->reader, "connected", G_CALLBACK(on_connected), f);
        g_signal_connect(f->reader, "disconnected", G_CALLBACK(on_disconnected), f);
        if (data == NULL) {
                fixture_listen(f);
                vt_agent_reader_start(f->reader);
                fixture_accept(f, 1);
        } else if (g_str_equal(data, "budget")) {
                fixture_listen(f);
        }
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_clear_object(&f->reader);
        for (guint i = 0; i < f->log->len; i++)
                g_test_message("logged: %s", (const char *)f->log->pdata[i]);
        g_log_remove_handler(DOMAIN, f->log_handler);
        g_test_log_set_fatal_handler(NULL, NULL);
        g_ptr_array_unref(f->log);
        g_array_unref(f->connected_us);
        g_array_unref(f->disconnected_us);
        fixture_unlisten(f);
        g_assert_cmpint(g_rmdir(f->dir), ==, 0);
        g_free(f->path);
        g_free(f->dir);
}

/* Writes without blocking, letting the reader (on this thread) read. */
static void
send_text(Fixture *f, const char *text, gsize len)
{
        gint64 deadline = g_get_monotonic_time() + GUARD_US;

        while (len > 0) {
                ssize_t n = send(f->conn_fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n < 0) {
                        g_assert_cmpint(errno, ==, EAGAIN);
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_main_context_iteration(NULL, TRUE);
                        continue;
                }
                text += n;
                len -= (gsize)n;
        }
}

static void
send_line(Fixture *f, const char *line)
{
        g_autofree char *text = g_strconcat(line, "\n", NULL);

        send_text(f, text, strlen(text));
}

static char *
report_line(guint64 seq, const char *reason, guint interval_ms, guint64 pgmajfault)
{
        return g_strdup_printf("{\"v\":1,\"type\":\"report\",\"seq\":%" G_GUINT64_FORMAT
                               ",\"reason\":\"%s\","
                               "\"uptime_ms\":%" G_GUINT64_FORMAT ",\"interval_ms\":%u,"
                               "\"mem\":{\"total\":536870912,\"available\":268435456},"
                               "\"vm\":{\"pgmajfault\":%" G_GUINT64_FORMAT "}}",
                               seq, reason, seq * 1000, interval_ms, pgmajfault);
}

static void
send_report(Fixture *f, guint64 seq, const char *reason, guint interval_ms, guint64 pgmajfault)
{
        g_autofree char *line = report_line(seq, reason, interval_ms, pgmajfault);

        send_line(f, line);
}

typedef struct {
        Fixture *f;
        guint64 seq;
} SeqWait;

static gboolean
seq_reached(gpointer data)
{
        SeqWait *w = data;
        const VtAgentReport *report = vt_agent_reader_get_report(w->f->reader);

        return report != NULL && report->seq == w->seq;
}

/* Waits until the report with @seq is the latest accepted. */
static void
wait_seq(Fixture *f, guint64 seq)
{
        SeqWait w = {f, seq};

        g_assert_true(vt_test_run_until(seq_reached, &w, GUARD_US));
}

static void
test_reader_reports(Fixture *f, gconstpointer data)
{
        const VtAgentReport *report;

        send_line(f, "{\"v\":1,\"type\":\"hello\",\"seq\":1,\"version\":\"0.1.0\","
                     "\"interval_ms\":5000,\"features\":[\"psi-trigger\"]}");
        for (guint64 seq = 2; seq <= 4; seq++)
                send_report(f, seq, "periodic", 5000, seq);
        wait_seq(f, 4);
        report = vt_agent_reader_get_report(f->reader);
        g_assert_cmpuint(report->mem_available, ==, 268435456);
        g_assert_cmpuint(report->pgmajfault, ==, 4);
        g_assert_cmpint(report->received_us, >, 0);
        g_assert_false(vt_agent_reader_is_stale(f->reader, report->received_us));
        g_assert_true(
            vt_agent_reader_is_stale(f->reader, report->received_us + 15 * G_USEC_PER_SEC + 1));
        g_assert_cmpuint(f->n_hellos, ==, 1);
        g_assert_cmpuint(f->n_reports, ==, 3);
        g_assert_cmpuint(f->n_pressure, ==, 0);
        g_assert_true(vt_agent_reader_is_connected(f->reader));
}

/* Every kind of bad line is dropped and counted; the connection survives. */
static void
test_reader_hostile(Fixture *f, gconstpointer data)
{
        g_autofree char *giant = g_strnfill(64 * 1024, 'x');
        g_autofree char *giant_json = g_strdup_printf("{\"pad\":\"%s\"}", giant);
        const VtAgentReaderCounters *counters = vt_agent_reader_get_counters(f->reader);

        send_report(f, 10, "periodic", 5000, 100);
        wait_seq(f, 10);
        send_line(f, giant_json);                                         /* over 4096 bytes */
        send_line(f, giant);                                              /* not JSON, no end */
        send_line(f, "{\"v\":1,\"type\":\"report\",\"x\":\"\xc3\x28\"}"); /* bad UTF-8 */
        send_line(f, "{\"v\":1,\"type\":\"report\",\"seq\":11,\"reason\":\"periodic\","
                     "\"uptime_ms\":1,\"interval_ms\":5000,\"mem\":{\"total\":NaN}}");
        send_line(f, "{\"v\":1,\"type\":\"report\",\"seq\":11,\"reason\":\"periodic\","
                     "\"uptime_ms\":1,\"interval_ms\":5000,\"mem\":{\"total\":-5}}");
        send_line(f, "{\"v\":1,\"type\":\"report\",\"seq\":\"11\"}");
        send_line(f, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
        send_report(f, 9, "periodic", 5000, 100);  /* seq backwards */
        send_report(f, 11, "periodic", 5000, 99);  /* counter backwards */
        send_report(f, 12, "periodic", 5000, 101); /* fine */
        wait_seq(f, 12);
        /* giant, not JSON, bad UTF-8, NaN (the framer drops those), too deep */
        g_assert_cmpuint(counters->n_malformed, ==, 5);
        /* negative total, string seq */
        g_assert_cmpuint(counters->n_invalid, ==, 2);
        g_assert_cmpuint(counters->n_backwards, ==, 2);
        g_assert_cmpuint(counters->n_reports, ==, 2);
        g_assert_cmpuint(f->n_disconnected, ==, 0);
        g_assert_true(vt_agent_reader_is_connected(f->reader));
        /* Logged once each at warning level; the rest held for a summary. */
        g_assert_cmpuint(log_count(f, 'W', "message longer than 4095 bytes dropped"), ==, 1);
        g_assert_cmpuint(log_count(f, 'W', "line dropped: "), ==, 1);
        /* 128 KiB at once is more than an agent's burst: paused, not closed. */
        g_assert_cmpuint(log_count(f, 'W', "reading paused"), ==, 1);
        g_assert_cmpuint(log_count(f, 'W', ""), ==, 3);
        vt_agent_reader_stop(f->reader);
        g_assert_cmpuint(log_count(f, 'W', "4 more malformed lines dropped in the last"), ==, 1);
        g_assert_cmpuint(log_count(f, 'W', "3 more invalid lines dropped in the last"), ==, 1);
        g_assert_cmpuint(log_count(f, 'W', ""), ==, 5);
}

typedef struct {
        const VtAgentReaderCounters *counters;
        guint64 n_lines;
} LinesWait;

static gboolean
lines_reached(gpointer data)
{
        LinesWait *w = data;

        return w->counters->n_lines >= w->n_lines;
}

/* A flood is cut to the rate limit; every line is accounted for. */
static void
test_reader_flood(Fixture *f, gconstpointer data)
{
        const VtAgentReaderCounters *counters = vt_agent_reader_get_counters(f->reader);
        g_autoptr(GString) burst = g_string_new(NULL);
        const guint n = 150; /* 30 KB, 50 with the overhead: within the burst */
        LinesWait wait = {counters, n};
        gint64 start = g_get_monotonic_time();
        double elapsed_s;

        for (guint64 seq = 1; seq <= n; seq++) {
                g_autofree char *line = report_line(seq, "periodic", 5000, seq);

                g_string_append_printf(burst, "%s\n", line);
        }
        send_text(f, burst->str, burst->len);
        g_assert_true(vt_test_run_until(lines_reached, &wait, GUARD_US));
        elapsed_s = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        g_test_message("%u lines in %.3f s: %" G_GUINT64_FORMAT " accepted, %" G_GUINT64_FORMAT
                       " rate-limited",
                       n, elapsed_s, counters->n_reports, counters->n_rate_limited);
        g_assert_cmpuint(counters->n_lines, ==, n);
        g_assert_cmpuint(counters->n_reports + counters->n_rate_limited, ==, n);
        g_assert_cmpfloat(counters->n_reports, <=,
                          VT_AGENT_READER_BURST + VT_AGENT_READER_RATE_PER_S * elapsed_s + 1);
        g_assert_cmpuint(counters->n_reports, >=, VT_AGENT_READER_BURST);
        g_assert_true(vt_agent_reader_is_connected(f->reader));
        g_assert_cmpuint(vt_agent_reader_get_counters(f->reader)->n_pauses, ==, 0);
        g_assert_cmpuint(log_count(f, 'W', "more than 20 lines/s: line dropped"), ==, 1);
        g_assert_cmpuint(log_count(f, 'W', ""), ==, 1);
}

/*
 * A guest that streams, from a thread of its own: it accepts each
 * connection the reader makes and sends @block over and over until the
 * reader closes it.
 */
typedef struct {
        int listen_fd;
        GString *block;
        guint64 sent;
        GThread *thread;
} Streamer;

static gpointer
streamer_thread(gpointer data)
{
        Streamer *s = data;

        for (;;) {
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

                if (fd < 0 && errno == EINTR)
                        continue;
                if (fd < 0)
                        return NULL;
                for (;;) {
                        ssize_t n = send(fd, s->block->str, s->block->len, MSG_NOSIGNAL);

                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        s->sent += (guint64)n;
                }
                close(fd);
        }
}

/* Stops a streamer once the reader has closed its connection. */
static void
streamer_join(Streamer *s)
{
        shutdown(s->listen_fd, SHUT_RDWR);
        g_thread_join(s->thread);
        g_string_free(s->block, TRUE);
}

static const VtQmpChannelBudget test_budget = {
    .max_read = 1024,
    .rate = 16 * 1024,
    .burst = 8 * 1024,
    .overhead = 128,
    .max_over_us = 300 * 1000,
};
#define TEST_PENALTY_US (200 * 1000)

static gboolean
closed_twice(gpointer data)
{
        Fixture *f = data;

        return vt_agent_reader_get_counters(f->reader)->n_over_budget >= 2 && f->n_connected >= 3;
}

/*
 * A guest that streams @block is read within its budget: at most max_read
 * bytes a wake-up, at most burst + rate × elapsed a connection, paused and
 * then closed; the reconnection waits the penalty, doubled the second
 * time; the log says each kind of thing once.
 */
static void
test_reader_budget_stream(Fixture *f, GString *block)
{
        Streamer streamer = {.listen_fd = f->listen_fd, .block = block};
        const VtAgentReaderCounters *c;
        gint64 start = g_get_monotonic_time();
        double elapsed_s;

        vt_agent_reader_set_budget(f->reader, &test_budget, TEST_PENALTY_US, 2 * TEST_PENALTY_US);
        streamer.thread = g_thread_new("streamer", streamer_thread, &streamer);
        vt_agent_reader_start(f->reader);
        g_assert_true(vt_test_run_until(closed_twice, f, GUARD_US));
        vt_agent_reader_stop(f->reader);
        elapsed_s = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        streamer_join(&streamer);

        c = vt_agent_reader_get_counters(f->reader);
        g_test_message("%.3f s: %" G_GUINT64_FORMAT " bytes sent, %" G_GUINT64_FORMAT
                       " read in %" G_GUINT64_FORMAT " reads (at most %" G_GSIZE_FORMAT
                       "), %" G_GUINT64_FORMAT " pauses, %" G_GUINT64_FORMAT
                       " connections, %" G_GUINT64_FORMAT " lines, %" G_GUINT64_FORMAT
                       " malformed, %" G_GUINT64_FORMAT " reports",
                       elapsed_s, streamer.sent, c->n_bytes, c->n_reads, c->max_read, c->n_pauses,
                       c->n_connects, c->n_lines, c->n_malformed, c->n_reports);
        g_assert_cmpuint(c->max_read, <=, test_budget.max_read);
        g_assert_cmpfloat((double)c->n_bytes, <=,
                          (double)c->n_connects * (test_budget.burst + test_budget.max_read) +
                              test_budget.rate * elapsed_s);
        g_assert_cmpuint(c->n_pauses, >=, 2);
        g_assert_cmpuint(c->n_over_budget, >=, 2);
        g_assert_cmpuint(c->n_lines, ==,
                         c->n_malformed + c->n_invalid + c->n_backwards + c->n_rate_limited +
                             c->n_reports + c->n_hellos);
        /* Timers never fire early: the penalties were waited, doubling. */
        g_assert_cmpint(g_array_index(f->connected_us, gint64, 1) -
                            g_array_index(f->disconnected_us, gint64, 0),
                        >=, TEST_PENALTY_US);
        g_assert_cmpint(g_array_index(f->connected_us, gint64, 2) -
                            g_array_index(f->disconnected_us, gint64, 1),
                        >=, 2 * TEST_PENALTY_US);

        g_assert_cmpuint(
            log_count(f, 'W', "sock': over its budget of 16384 bytes/s: reading paused"), ==, 1);
        g_assert_cmpuint(log_count(f, 'W', "sock': sent more than its budget"), ==, 1);
        g_assert_cmpuint(log_count(f, 'W', "closed; reconnecting in 0.2 s"), ==, 1);
        g_assert_cmpuint(log_count(f, 'W', "more runs over the budget in the last"), ==, 1);
        g_assert_cmpuint(log_count(f, 'W', "more connections closed in the last"), ==, 1);
        /* Closure, pause and each kind of drop: a line and a summary. */
        g_assert_cmpuint(log_count(f, 'W', ""), <=, 8);
}

static void
test_reader_budget_random(Fixture *f, gconstpointer data)
{
        GString *block = g_string_new(NULL);
        g_autoptr(GRand) rand = g_rand_new_with_seed(16);

        while (block->len < 16 * 1024)
                g_string_append_c(block, (char)g_rand_int_range(rand, 0, 256));
        test_reader_budget_stream(f, block);
        g_assert_cmpuint(vt_agent_reader_get_counters(f->reader)->n_malformed, >, 1);
        g_assert_cmpuint(log_count(f, 'W', "more malformed lines dropped"), ==, 1);
}

static void
test_reader_budget_lines(Fixture *f, gconstpointer data)
{
        GString *block = g_string_new(NULL);
        const VtAgentReaderCounters *c;

        for (guint64 seq = 1; block->len < 16 * 1024; seq++) {
                g_autofree char *line = report_line(seq, "periodic", 5000, seq);

                g_string_append_printf(block, "%s\n", line);
        }
        test_reader_budget_stream(f, block);
        c = vt_agent_reader_get_counters(f->reader);
        g_assert_cmpuint(c->n_rate_limited, >, 0);
        g_assert_cmpuint(log_count(f, 'W', "sock': more than 20 lines/s: line dropped"), ==, 1);
}

/* What an agent sends, even in a burst, is never paused nor cut by the
 * default budget: a hello and as many reports as the line limit lets
 * through at once, after a pause of the length of the agent's interval. */
static void
test_reader_budget_legit(Fixture *f, gconstpointer data)
{
        g_autoptr(GString) burst = g_string_new(NULL);
        const VtAgentReaderCounters *c = vt_agent_reader_get_counters(f->reader);
        LinesWait wait = {c, VT_AGENT_READER_BURST};

        g_string_append(burst, "{\"v\":1,\"type\":\"hello\",\"seq\":1,"
                               "\"version\":\"0.1.0\",\"interval_ms\":5000}\n");
        for (guint64 seq = 2; seq <= VT_AGENT_READER_BURST; seq++) {
                g_autofree char *line = report_line(seq, "pressure", 5000, seq);

                g_string_append_printf(burst, "%s\n", line);
        }
        send_text(f, burst->str, burst->len);
        g_assert_true(vt_test_run_until(lines_reached, &wait, GUARD_US));
        c = vt_agent_reader_get_counters(f->reader);
        g_assert_cmpuint(c->n_hellos + c->n_reports, ==, VT_AGENT_READER_BURST);
        g_assert_cmpuint(c->n_pauses, ==, 0);
        g_assert_cmpuint(c->max_read, <=, VT_AGENT_READER_BUDGET_MAX_READ);
        g_assert_cmpuint(c->n_over_budget, ==, 0);
        g_assert_true(vt_agent_reader_is_connected(f->reader));
        g_assert_cmpuint(log_count(f, 'W', ""), ==, 0);
}

static void
test_reader_pressure(Fixture *f, gconstpointer data)
{
        send_report(f, 1, "periodic", 5000, 0);
        send_report(f, 2, "pressure", 5000, 0);
        send_report(f, 3, "drop", 5000, 0);
        send_report(f, 4, "request", 5000, 0);
        wait_seq(f, 4);
        g_assert_cmpuint(f->n_reports, ==, 4);
        g_assert_cmpuint(f->n_pressure, ==, 2);
}

static void
test_reader_stale(Fixture *f, gconstpointer data)
{
        send_report(f, 1, "periodic", 100, 0);
        wait_seq(f, 1);
        g_assert_cmpuint(f->n_stale, ==, 0);
        g_assert_true(vt_test_wait_above(&f->n_stale, 0, GUARD_US));
        g_assert_true(vt_agent_reader_is_stale(f->reader, g_get_monotonic_time()));
        /* A new report makes it fresh again. */
        send_report(f, 2, "periodic", 5000, 0);
        wait_seq(f, 2);
        g_assert_false(vt_agent_reader_is_stale(f->reader, g_get_monotonic_time()));
        g_assert_cmpuint(f->n_stale, ==, 1);
}

/* Half a line, then the guest side goes: the half is dropped, the reader
 * reconnects, and a restarted agent's hello lets its counters start over. */
static void
test_reader_truncated_then_reconnect(Fixture *f, gconstpointer data)
{
        const VtAgentReaderCounters *counters = vt_agent_reader_get_counters(f->reader);

        send_report(f, 7, "periodic", 5000, 50);
        wait_seq(f, 7);
        send_text(f, "{\"v\":1,\"type\":\"rep", 18);
        close(f->conn_fd);
        f->conn_fd = -1;
        g_assert_true(vt_test_wait_above(&f->n_disconnected, 0, GUARD_US));
        g_assert_cmpuint(counters->n_malformed, ==, 1);

        fixture_accept(f, 2);
        send_line(f, "{\"v\":1,\"type\":\"hello\",\"seq\":1,\"version\":\"0.1.0\","
                     "\"interval_ms\":5000}");
        send_report(f, 2, "periodic", 5000, 3);
        wait_seq(f, 2);
        g_assert_cmpuint(vt_agent_reader_get_report(f->reader)->pgmajfault, ==, 3);
        g_assert_cmpuint(counters->n_connects, ==, 2);
        g_assert_cmpuint(counters->n_backwards, ==, 0);
}

/* No socket at first; it appears, goes away and comes back. */
static void
test_reader_socket_comes_back(Fixture *f, gconstpointer data)
{
        vt_agent_reader_start(f->reader);
        g_assert_false(vt_agent_reader_is_connected(f->reader));
        fixture_listen(f);
        fixture_accept(f, 1);
        send_report(f, 1, "periodic", 5000, 0);
        wait_seq(f, 1);

        fixture_unlisten(f);
        g_assert_true(vt_test_wait_above(&f->n_disconnected, 0, GUARD_US));
        g_assert_false(vt_agent_reader_is_connected(f->reader));
        /* The last report is kept while the guest is away. */
        g_assert_nonnull(vt_agent_reader_get_report(f->reader));

        fixture_listen(f);
        fixture_accept(f, 2);
        send_report(f, 2, "periodic", 5000, 0);
        wait_seq(f, 2);
}

/* Reads one line the reader sent, with a guard. */
static json_object *
receive_request(Fixture *f)
{
        GString *line = g_string_new(NULL);
        gint64 deadline = g_get_monotonic_time() + GUARD_US;
        json_object *request;

        while (line->len == 0 || line->str[line->len - 1] != '\n') {
                char c;
                ssize_t n;

                /* The reader writes from the main loop: let it run. */
                g_main_context_iteration(NULL, FALSE);
                n = recv(f->conn_fd, &c, 1, MSG_DONTWAIT);
                if (n == 1)
                        g_string_append_c(line, c);
                else
                        g_assert_true(n < 0 && errno == EAGAIN &&
                                      g_get_monotonic_time() < deadline);
        }
        request = json_tokener_parse(line->str);
        g_string_free(line, TRUE);
        g_assert_nonnull(request);
        return request;
}

static const char *
get_string(json_object *object, const char *name)
{
        json_object *member = NULL;

        g_assert_true(json_object_object_get_ex(object, name, &member));
        return json_object_get_string(member);
}

static void
test_reader_requests(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        json_object *request;
        json_object *interval = NULL;

        g_assert_true(vt_agent_reader_set_interval(f->reader, 2000, &error));
        g_assert_no_error(error);
        request = receive_request(f);
        g_assert_cmpstr(get_string(request, "type"), ==, "set-interval");
        g_assert_cmpstr(get_string(request, "v"), ==, "1");
        g_assert_true(json_object_object_get_ex(request, "interval_ms", &interval));
        g_assert_cmpint(json_object_get_int64(interval), ==, 2000);
        json_object_put(request);

        g_assert_true(vt_agent_reader_request_report(f->reader, &error));
        request = receive_request(f);
        g_assert_cmpstr(get_string(request, "type"), ==, "report-now");
        json_object_put(request);

        vt_agent_reader_stop(f->reader);
        g_assert_false(vt_agent_reader_request_report(f->reader, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

#define ADD(path, test, data) g_test_add(path, Fixture, data, fixture_setup, test, fixture_teardown)
        ADD("/agent/reader/reports", test_reader_reports, NULL);
        ADD("/agent/reader/hostile", test_reader_hostile, NULL);
        ADD("/agent/reader/flood", test_reader_flood, NULL);
        ADD("/agent/reader/pressure", test_reader_pressure, NULL);
        ADD("/agent/reader/stale", test_reader_stale, NULL);
        ADD("/agent/reader/truncated-then-reconnect", test_reader_truncated_then_reconnect, NULL);
        ADD("/agent/reader/socket-comes-back", test_reader_socket_comes_back, "no-listen");
        ADD("/agent/reader/requests", test_reader_requests, NULL);
        ADD("/agent/reader/budget/random", test_reader_budget_random, "budget");
        ADD("/agent/reader/budget/lines", test_reader_budget_lines, "budget");
        ADD("/agent/reader/budget/legit", test_reader_budget_legit, NULL);
#undef ADD
        return g_test_run();
}
