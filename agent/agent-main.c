/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtide-agent: reports the guest's memory state to the host over the
 * virtio-serial port org.vmtide.agent.0 (docs/agent-protocol.md, docs/agent.md).
 * libc and json-c only, so that it can be linked statically.
 *
 * Theory of operation: one thread, one ppoll() loop, three sources.
 *
 * - A tick every --sample-ms (200 ms), the only wakeup while idle.
 *   It reads /proc/meminfo to catch MemAvailable falling by more than
 *   --drop-percent of MemTotal within the last second (a "drop" report),
 *   retries opening the port while it is missing or busy, and checks
 *   whether the host came back. A shorter tick catches a fall sooner for
 *   more idle CPU (docs/benchmarks.md has both).
 *
 * - The port, non-blocking. virtio_console reports POLLHUP for as long as
 *   the host side is closed (and read() returns 0, write() EAGAIN), so the
 *   port is polled only while the host is connected; otherwise the loop
 *   would spin. The port is opened with O_ASYNC: virtio_console sends SIGIO
 *   when the host opens or closes its side, which wakes the loop at once; the
 *   tick is the fallback. On every (re)connection the agent sends a hello
 *   and a report. seq, the interval and the counters live on across host
 *   disconnections; the port itself stays open.
 *
 * - The PSI trigger (/proc/pressure/memory, POLLPRI): a "pressure" report at
 *   once, at most one per PRESSURE_GAP_US, so a stall storm cannot flood the
 *   port. A kernel that refuses the trigger leaves the agent without it, and
 *   the hello does not advertise "psi-trigger".
 *
 * Output is never queued: the agent keeps what it wants to send as flags
 * (a hello, a report and its reason) and builds each line from a fresh
 * sample when the port can take it. A write that would block leaves the
 * flags set for POLLOUT, so only the newest report ever goes out. Each line
 * is one write() (virtio_console sends a write of up to 32 KiB as one
 * buffer); a short write is finished before anything else.
 *
 * Signals (SIGIO, SIGTERM, SIGINT) are blocked except inside ppoll(): no
 * wakeup is lost between checking a flag and sleeping.
 */
#include "agent/agent-proc.h"
#include "agent/agent-report.h"
#include "vt-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PORT_DIR             "/dev/virtio-ports/"
#define DEFAULT_PORT         PORT_DIR VT_AGENT_PORT_NAME
#define DEFAULT_INTERVAL_MS  5000
#define DEFAULT_PSI_TRIGGER  "some 100000 1000000"
#define DEFAULT_DROP_PERCENT 10
#define PSI_TRIGGER_MAX      127              /* the kernel reads at most 128 bytes with the NUL */
#define DROP_WINDOW_US       INT64_C(1000000) /* a drop is a fall within this */
#define DEFAULT_SAMPLE_MS    200
#define SAMPLE_MS_MIN        100
#define DROP_WINDOW          (DROP_WINDOW_US / 1000 / SAMPLE_MS_MIN) /* samples, at most */
#define PRESSURE_GAP_US      INT64_C(500000)
#define READS_PER_WAKEUP     64 /* then back to ppoll(), so a flooding host cannot starve the rest */

typedef struct {
        /* Options. */
        const char *port_path;
        const char *proc_root;
        const char *psi_trigger; /* NULL: no trigger */
        unsigned drop_percent;   /* 0: no drop detection */
        bool verbose;

        /* State kept across host disconnections. */
        uint32_t interval_ms;
        uint64_t seq; /* of the last line sent */
        uint64_t dropped_requests;

        /* The port. */
        int port_fd;         /* -1: not open */
        int port_open_errno; /* last open() failure logged, so each cause is logged once */
        bool host_connected;
        bool port_blocked; /* the last write would have blocked: wait for POLLOUT */
        char in[VT_AGENT_LINE_MAX];
        size_t in_len;
        bool in_overflow;
        char *out; /* the rest of a line cut by a short write */
        size_t out_off;
        size_t out_len;
        bool want_hello;
        bool want_report;
        VtAgentReportReason want_reason;
        bool sample_failed; /* logged once until a sample works again */

        /* PSI trigger. */
        int psi_fd; /* -1: none */
        int64_t last_pressure_us;
        bool pressure_pending;

        /* Timers, CLOCK_MONOTONIC µs. */
        int64_t next_tick_us;
        int64_t next_periodic_us;
        int64_t tick_us;
        /* MemAvailable at the last ticks of the past second, oldest first. */
        uint64_t window[DROP_WINDOW];
        unsigned window_len;
} Agent;

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_io;

static void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * log_msg() - Print one line on stderr (the journal under systemd).
 * @fmt: printf format, without the newline
 */
static void
log_msg(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("vmtide-agent: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

static int64_t
now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
on_signal(int sig)
{
        if (sig == SIGIO)
                got_io = 1;
        else
                got_term = 1;
}

/**
 * port_find_in_sysfs() - Find a port's device by its name when the symlink is missing.
 * @name: the port name ("org.vmtide.agent.0")
 * @buf: receives "/dev/vportNpM"
 * @size: size of @buf
 *
 * The /dev/virtio-ports/ links are udev's work; a minimal guest may have none.
 *
 * Return: true if found
 */
static bool
port_find_in_sysfs(const char *name, char *buf, size_t size)
{
        DIR *dir = opendir("/sys/class/virtio-ports");
        struct dirent *de;
        bool found = false;

        if (!dir)
                return false;
        while (!found && (de = readdir(dir))) {
                char path[512], line[256];
                FILE *f;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                if (fgets(line, sizeof(line), f)) {
                        line[strcspn(line, "\n")] = '\0';
                        if (strcmp(line, name) == 0 &&
                            (size_t)snprintf(buf, size, "/dev/%s", de->d_name) < size)
                                found = true;
                }
                fclose(f);
        }
        closedir(dir);
        return found;
}

/**
 * port_try_open() - Open the port if it exists and is free.
 * @agent: the agent
 *
 * Return: 0 on success, -errno on failure (ENOENT: not there yet; EBUSY:
 * another process has it open)
 */
static int
port_try_open(Agent *agent)
{
        char sysfs_path[300];
        int fd, flags;

        fd = open(agent->port_path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == ENOENT &&
            strncmp(agent->port_path, PORT_DIR, strlen(PORT_DIR)) == 0 &&
            port_find_in_sysfs(agent->port_path + strlen(PORT_DIR), sysfs_path, sizeof(sysfs_path)))
                fd = open(sysfs_path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* SIGIO on host open/close and on input (virtio_console's fasync). */
        flags = fcntl(fd, F_GETFL);
        if (fcntl(fd, F_SETOWN, getpid()) < 0 || flags < 0 ||
            fcntl(fd, F_SETFL, flags | O_ASYNC) < 0)
                log_msg("no SIGIO on '%s' (%s): host reconnections are seen at the next tick",
                        agent->port_path, strerror(errno));
        agent->port_fd = fd;
        return 0;
}

/**
 * queue_report() - Ask for a report to go out as soon as the port takes it.
 * @agent: the agent
 * @reason: why
 *
 * A pending event reason is not overwritten by a periodic one.
 */
static void
queue_report(Agent *agent, VtAgentReportReason reason)
{
        if (!agent->host_connected)
                return;
        if (!agent->want_report || reason != VT_AGENT_REPORT_REASON_PERIODIC)
                agent->want_reason = reason;
        agent->want_report = true;
}

/**
 * host_set_lost() - Forget the connection's pending input and output.
 * @agent: the agent
 * @why: for the log
 */
static void
host_set_lost(Agent *agent, const char *why)
{
        if (agent->host_connected)
                log_msg("host disconnected (%s)", why);
        agent->host_connected = false;
        agent->port_blocked = false;
        agent->in_len = 0;
        agent->in_overflow = false;
        free(agent->out);
        agent->out = NULL;
        agent->want_hello = false;
        agent->want_report = false;
}

static void
port_close(Agent *agent, const char *why)
{
        host_set_lost(agent, why);
        if (agent->port_fd >= 0)
                close(agent->port_fd);
        agent->port_fd = -1;
}

/**
 * port_check_host() - Notice the host connecting: no POLLHUP any more.
 * @agent: the agent, with the port open and the host not connected
 * @now: CLOCK_MONOTONIC µs
 */
static void
port_check_host(Agent *agent, int64_t now)
{
        struct pollfd pfd = {.fd = agent->port_fd, .events = POLLIN};

        if (poll(&pfd, 1, 0) < 0)
                return;
        if (pfd.revents & POLLNVAL) {
                port_close(agent, "port invalid");
                return;
        }
        if (pfd.revents & POLLHUP)
                return;
        log_msg("host connected on '%s'", agent->port_path);
        agent->host_connected = true;
        agent->want_hello = true;
        queue_report(agent, VT_AGENT_REPORT_REASON_PERIODIC);
        agent->next_periodic_us = now + (int64_t)agent->interval_ms * 1000;
}

/**
 * build_report() - Sample /proc and build a report line with the pending reason.
 * @agent: the agent
 *
 * Return: (transfer full) the line, or NULL if /proc could not be read
 */
static char *
build_report(Agent *agent)
{
        VtAgentReportMeta meta = {0};
        VtAgentSample sample;
        int ret;

        ret = vt_agent_sample_read(agent->proc_root, &sample);
        if (ret < 0) {
                if (!agent->sample_failed)
                        log_msg("cannot read '%s/meminfo': %s", agent->proc_root, strerror(-ret));
                agent->sample_failed = true;
                return NULL;
        }
        agent->sample_failed = false;
        meta.seq = agent->seq + 1;
        meta.reason = agent->want_reason;
        meta.uptime_ms = (uint64_t)now_us() / 1000;
        meta.interval_ms = agent->interval_ms;
        meta.dropped_requests = agent->dropped_requests;
        vt_agent_self_read(&meta.self);
        return vt_agent_report_build(&sample, &meta);
}

/**
 * port_write() - Write what is pending until done or the port would block.
 * @agent: the agent, with the host connected
 *
 * Return: 0 if everything pending went out, -EAGAIN if the port would block,
 * another -errno if the port failed
 */
static int
port_write(Agent *agent)
{
        for (;;) {
                bool *want;
                char *line;
                size_t len;
                ssize_t n;

                if (agent->out) {
                        n = write(agent->port_fd, agent->out + agent->out_off,
                                  agent->out_len - agent->out_off);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return -errno;
                        }
                        agent->out_off += (size_t)n;
                        if (agent->out_off == agent->out_len) {
                                free(agent->out);
                                agent->out = NULL;
                        }
                        continue;
                }
                if (agent->want_hello) {
                        want = &agent->want_hello;
                        line = vt_agent_hello_build(agent->seq + 1, agent->interval_ms,
                                                    agent->psi_fd >= 0);
                } else if (agent->want_report) {
                        want = &agent->want_report;
                        line = build_report(agent);
                } else {
                        return 0;
                }
                if (!line) {
                        /* Out of memory or /proc unreadable (logged): give this one up. */
                        *want = false;
                        continue;
                }
                len = strlen(line);
                n = write(agent->port_fd, line, len);
                if (n < 0) {
                        int ret = -errno;

                        /* Not sent: *want stays set, and the line is rebuilt fresh later. */
                        free(line);
                        if (ret == -EINTR)
                                continue;
                        return ret;
                }
                agent->seq++;
                *want = false;
                if ((size_t)n < len) {
                        agent->out = line;
                        agent->out_off = (size_t)n;
                        agent->out_len = len;
                } else {
                        free(line);
                }
        }
}

/**
 * port_flush() - Send what is pending, if the host is there and the port not full.
 * @agent: the agent
 */
static void
port_flush(Agent *agent)
{
        int ret;

        if (!agent->host_connected || agent->port_blocked)
                return;
        ret = port_write(agent);
        if (ret == -EAGAIN)
                agent->port_blocked = true; /* POLLOUT or POLLHUP will tell */
        else if (ret < 0)
                port_close(agent, strerror(-ret));
}

/**
 * handle_request() - Act on one complete line from the host.
 * @agent: the agent
 * @line: the line, without its newline, NUL-terminated
 * @len: its length
 * @now: CLOCK_MONOTONIC µs
 */
static void
handle_request(Agent *agent, const char *line, size_t len, int64_t now)
{
        VtAgentRequest request;

        if (strspn(line, " \t\r") == len)
                return; /* an empty line is no request */
        if (!vt_agent_request_parse(line, len, &request)) {
                agent->dropped_requests++;
                /* Log the 1st, 2nd, 4th, 8th, ... so that a flood stays quiet. */
                if ((agent->dropped_requests & (agent->dropped_requests - 1)) == 0)
                        log_msg("ignored a malformed or unknown request (%" PRIu64 " so far)",
                                agent->dropped_requests);
                return;
        }
        switch (request.type) {
        case VT_AGENT_REQUEST_HELLO:
                agent->want_hello = true;
                break;
        case VT_AGENT_REQUEST_SET_INTERVAL:
                if (request.interval_ms != agent->interval_ms)
                        log_msg("interval set to %" PRIu32 " ms by the host", request.interval_ms);
                agent->interval_ms = request.interval_ms;
                agent->next_periodic_us = now + (int64_t)agent->interval_ms * 1000;
                queue_report(agent, VT_AGENT_REPORT_REASON_REQUEST);
                break;
        case VT_AGENT_REQUEST_REPORT_NOW:
                queue_report(agent, VT_AGENT_REPORT_REASON_REQUEST);
                break;
        case VT_AGENT_REQUEST_MAX:
                break;
        }
}

/**
 * handle_input() - Split what the host sent into lines and act on them.
 * @agent: the agent
 * @data: bytes read
 * @len: how many
 * @now: CLOCK_MONOTONIC µs
 */
static void
handle_input(Agent *agent, const char *data, size_t len, int64_t now)
{
        while (len > 0) {
                const char *nl = memchr(data, '\n', len);
                size_t take = nl ? (size_t)(nl - data) : len;

                if (!agent->in_overflow) {
                        /* VT_AGENT_LINE_MAX includes the newline. */
                        if (agent->in_len + take > VT_AGENT_LINE_MAX - 1) {
                                agent->in_overflow = true;
                                agent->in_len = 0;
                        } else {
                                memcpy(agent->in + agent->in_len, data, take);
                                agent->in_len += take;
                        }
                }
                if (!nl)
                        return;
                if (agent->in_overflow) {
                        agent->dropped_requests++;
                        log_msg("ignored a request line over %d bytes (%" PRIu64 " ignored so far)",
                                VT_AGENT_LINE_MAX, agent->dropped_requests);
                } else {
                        char line[VT_AGENT_LINE_MAX];

                        memcpy(line, agent->in, agent->in_len);
                        line[agent->in_len] = '\0';
                        handle_request(agent, line, agent->in_len, now);
                }
                agent->in_len = 0;
                agent->in_overflow = false;
                data = nl + 1;
                len -= take + 1;
        }
}

/**
 * port_read() - Read what the host sent; notice it leaving.
 * @agent: the agent, with the host connected
 * @now: CLOCK_MONOTONIC µs
 */
static void
port_read(Agent *agent, int64_t now)
{
        for (int i = 0; i < READS_PER_WAKEUP && agent->host_connected; i++) {
                char buf[4096];
                ssize_t n = read(agent->port_fd, buf, sizeof(buf));

                if (n > 0) {
                        handle_input(agent, buf, (size_t)n, now);
                        continue;
                }
                if (n == 0) {
                        /* virtio_console: no data and the host side is closed. */
                        host_set_lost(agent, "end of file");
                        return;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        port_close(agent, strerror(errno));
                return;
        }
}

/**
 * psi_setup() - Arm the PSI trigger, if configured and the kernel accepts it.
 * @agent: the agent
 */
static void
psi_setup(Agent *agent)
{
        char path[4096];
        int fd;

        if (!agent->psi_trigger)
                return;
        snprintf(path, sizeof(path), "%s/pressure/memory", agent->proc_root);
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                log_msg("no PSI trigger: cannot open '%s': %s", path, strerror(errno));
                return;
        }
        /* The kernel takes the trigger with its NUL. */
        if (write(fd, agent->psi_trigger, strlen(agent->psi_trigger) + 1) < 0) {
                log_msg("no PSI trigger: the kernel refused '%s': %s", agent->psi_trigger,
                        strerror(errno));
                close(fd);
                return;
        }
        log_msg("PSI trigger '%s' armed", agent->psi_trigger);
        agent->psi_fd = fd;
}

/**
 * on_pressure() - The PSI trigger fired: report now, or as soon as the rate limit allows.
 * @agent: the agent
 * @now: CLOCK_MONOTONIC µs
 */
static void
on_pressure(Agent *agent, int64_t now)
{
        if (now - agent->last_pressure_us >= PRESSURE_GAP_US) {
                agent->last_pressure_us = now;
                agent->pressure_pending = false;
                if (agent->verbose)
                        log_msg("memory pressure: reporting");
                queue_report(agent, VT_AGENT_REPORT_REASON_PRESSURE);
        } else {
                agent->pressure_pending = true;
        }
}

/**
 * check_drop() - Report if MemAvailable fell by more than drop_percent of
 *                MemTotal within the last second.
 * @agent: the agent
 *
 * Compares this tick's MemAvailable with the highest of the ticks of the
 * past second; after a report the window starts again, so a long fall is
 * reported once per drop_percent.
 */
static void
check_drop(Agent *agent)
{
        unsigned size = (unsigned)(DROP_WINDOW_US / agent->tick_us);
        VtAgentSample sample;
        uint64_t available, total, high = 0;

        if (agent->drop_percent == 0 ||
            vt_agent_sample_read_meminfo(agent->proc_root, &sample) < 0 ||
            !sample.has_mem[VT_AGENT_MEM_AVAILABLE]) {
                agent->window_len = 0;
                return;
        }
        available = sample.mem[VT_AGENT_MEM_AVAILABLE];
        total = sample.mem[VT_AGENT_MEM_TOTAL];
        for (unsigned i = 0; i < agent->window_len; i++)
                high = agent->window[i] > high ? agent->window[i] : high;
        if (high > available &&
            (double)(high - available) * 100.0 > (double)total * agent->drop_percent) {
                if (agent->verbose)
                        log_msg("MemAvailable fell by %" PRIu64 " KiB within 1 s: reporting",
                                (high - available) / 1024);
                queue_report(agent, VT_AGENT_REPORT_REASON_DROP);
                agent->window_len = 0;
        }
        if (agent->window_len == size) {
                memmove(agent->window, agent->window + 1, (size - 1) * sizeof(agent->window[0]));
                agent->window_len--;
        }
        agent->window[agent->window_len++] = available;
}

/**
 * tick() - The housekeeping: drop detection, port retries, host check.
 * @agent: the agent
 * @now: CLOCK_MONOTONIC µs
 */
static void
tick(Agent *agent, int64_t now)
{
        agent->next_tick_us += agent->tick_us;
        if (agent->next_tick_us <= now)
                agent->next_tick_us = now + agent->tick_us;

        if (agent->port_fd < 0) {
                int ret = port_try_open(agent);

                if (ret == 0) {
                        log_msg("opened '%s'", agent->port_path);
                        agent->port_open_errno = 0;
                } else if (-ret != agent->port_open_errno) {
                        agent->port_open_errno = -ret;
                        log_msg("cannot open '%s': %s; retrying", agent->port_path, strerror(-ret));
                }
        }
        if (agent->port_fd >= 0 && !agent->host_connected)
                port_check_host(agent, now);
        check_drop(agent);
}

static int64_t
min_i64(int64_t a, int64_t b)
{
        return a < b ? a : b;
}

/**
 * agent_run() - The main loop, until SIGTERM or SIGINT.
 * @agent: the agent, options set
 *
 * Return: the exit status
 */
static int
agent_run(Agent *agent)
{
        struct sigaction sa = {.sa_handler = on_signal};
        sigset_t blocked, wait_mask;

        sigemptyset(&blocked);
        sigaddset(&blocked, SIGIO);
        sigaddset(&blocked, SIGTERM);
        sigaddset(&blocked, SIGINT);
        sigprocmask(SIG_BLOCK, &blocked, &wait_mask);
        sigdelset(&wait_mask, SIGIO);
        sigdelset(&wait_mask, SIGTERM);
        sigdelset(&wait_mask, SIGINT);
        sigemptyset(&sa.sa_mask);
        sigaction(SIGIO, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        log_msg("version %s, port '%s', interval %" PRIu32 " ms", VT_VERSION, agent->port_path,
                agent->interval_ms);
        psi_setup(agent);
        agent->next_tick_us = now_us();

        while (!got_term) {
                struct pollfd fds[2];
                int64_t now = now_us(), deadline;
                struct timespec timeout;
                nfds_t n_fds = 0;
                int port_idx = -1, psi_idx = -1;

                if (now >= agent->next_tick_us)
                        tick(agent, now);
                if (got_io) {
                        got_io = 0;
                        if (agent->port_fd >= 0 && !agent->host_connected)
                                port_check_host(agent, now);
                }
                if (agent->host_connected && now >= agent->next_periodic_us) {
                        queue_report(agent, VT_AGENT_REPORT_REASON_PERIODIC);
                        agent->next_periodic_us += (int64_t)agent->interval_ms * 1000;
                        if (agent->next_periodic_us <= now)
                                agent->next_periodic_us = now + (int64_t)agent->interval_ms * 1000;
                }
                if (agent->pressure_pending && now >= agent->last_pressure_us + PRESSURE_GAP_US)
                        on_pressure(agent, now);
                port_flush(agent);

                deadline = agent->next_tick_us;
                if (agent->host_connected)
                        deadline = min_i64(deadline, agent->next_periodic_us);
                if (agent->pressure_pending)
                        deadline = min_i64(deadline, agent->last_pressure_us + PRESSURE_GAP_US);
                if (agent->host_connected) {
                        port_idx = (int)n_fds;
                        fds[n_fds++] = (struct pollfd){
                            .fd = agent->port_fd,
                            .events = (short)(POLLIN | (agent->port_blocked ? POLLOUT : 0)),
                        };
                }
                if (agent->psi_fd >= 0) {
                        psi_idx = (int)n_fds;
                        fds[n_fds++] = (struct pollfd){.fd = agent->psi_fd, .events = POLLPRI};
                }
                now = now_us();
                deadline = deadline > now ? deadline - now : 0;
                timeout.tv_sec = deadline / 1000000;
                timeout.tv_nsec = (deadline % 1000000) * 1000;
                if (ppoll(fds, n_fds, &timeout, &wait_mask) < 0) {
                        if (errno == EINTR)
                                continue;
                        log_msg("ppoll: %s", strerror(errno));
                        return 1;
                }
                now = now_us();

                if (port_idx >= 0 && fds[port_idx].revents) {
                        short revents = fds[port_idx].revents;

                        if (revents & POLLOUT)
                                agent->port_blocked = false;
                        if (revents & (POLLIN | POLLHUP))
                                port_read(agent, now);
                        if (revents & POLLNVAL)
                                port_close(agent, "port invalid");
                        else if (revents & (POLLHUP | POLLERR))
                                host_set_lost(agent, "hang-up");
                }
                if (psi_idx >= 0 && fds[psi_idx].revents) {
                        if (fds[psi_idx].revents & (POLLERR | POLLNVAL)) {
                                log_msg("PSI trigger failed: running without it");
                                close(agent->psi_fd);
                                agent->psi_fd = -1;
                        } else if (fds[psi_idx].revents & POLLPRI) {
                                on_pressure(agent, now);
                        }
                }
        }
        log_msg("exiting on signal");
        port_close(agent, "agent exiting");
        if (agent->psi_fd >= 0)
                close(agent->psi_fd);
        return 0;
}

/**
 * run_once() - Print one report on stdout (--once).
 * @agent: the agent, options set
 *
 * Return: the exit status
 */
static int
run_once(Agent *agent)
{
        char *line;
        int ret;

        agent->want_reason = VT_AGENT_REPORT_REASON_REQUEST;
        line = build_report(agent);
        if (!line)
                return 1;
        ret = fputs(line, stdout) < 0 || fflush(stdout) != 0;
        free(line);
        if (ret) {
                log_msg("cannot write to stdout: %s", strerror(errno));
                return 1;
        }
        return 0;
}

static void
usage(FILE *out)
{
        fprintf(out,
                "Usage: vmtide-agent [OPTION]...\n"
                "Report this guest's memory state to the vmtide host daemon.\n"
                "\n"
                "  --port PATH          virtio-serial port (default " DEFAULT_PORT ")\n"
                "  --interval MS        periodic report interval, %d..%d (default %d)\n"
                "  --psi-trigger SPEC   PSI trigger for /proc/pressure/memory, or 'none'\n"
                "                       (default '" DEFAULT_PSI_TRIGGER "')\n"
                "  --drop-percent N     report when MemAvailable falls by more than N %% of\n"
                "                       MemTotal within 1 s; 0 disables (default %d)\n"
                "  --sample-ms MS       how often to read MemAvailable for that, %d..1000\n"
                "                       (default %d)\n"
                "  --proc-root DIR      read meminfo, vmstat, pressure/memory under DIR\n"
                "                       (default /proc)\n"
                "  --once               print one report on stdout and exit\n"
                "  -v, --verbose        also log each pressure and drop report\n"
                "  -h, --help           show this help and exit\n"
                "  -V, --version        show the version and exit\n",
                VT_AGENT_INTERVAL_MIN, VT_AGENT_INTERVAL_MAX, DEFAULT_INTERVAL_MS,
                DEFAULT_DROP_PERCENT, SAMPLE_MS_MIN, DEFAULT_SAMPLE_MS);
}

/**
 * parse_uint() - Parse a decimal option value within [@min, @max].
 * @text: the value
 * @min: lowest allowed
 * @max: highest allowed
 * @ret_value: receives it, only on success
 *
 * Return: true on success
 */
static bool
parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *ret_value)
{
        unsigned long value;
        char *end;

        if (*text < '0' || *text > '9')
                return false;
        errno = 0;
        value = strtoul(text, &end, 10);
        if (errno || *end != '\0' || value < min || value > max)
                return false;
        *ret_value = value;
        return true;
}

int
main(int argc, char **argv)
{
        enum { OPT_PORT = 256, OPT_INTERVAL, OPT_PSI, OPT_DROP, OPT_SAMPLE, OPT_ROOT, OPT_ONCE };
        static const struct option options[] = {
            {"port", required_argument, NULL, OPT_PORT},
            {"interval", required_argument, NULL, OPT_INTERVAL},
            {"psi-trigger", required_argument, NULL, OPT_PSI},
            {"drop-percent", required_argument, NULL, OPT_DROP},
            {"sample-ms", required_argument, NULL, OPT_SAMPLE},
            {"proc-root", required_argument, NULL, OPT_ROOT},
            {"once", no_argument, NULL, OPT_ONCE},
            {"verbose", no_argument, NULL, 'v'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {NULL, 0, NULL, 0},
        };
        Agent agent = {
            .port_path = DEFAULT_PORT,
            .proc_root = "/proc",
            .psi_trigger = DEFAULT_PSI_TRIGGER,
            .drop_percent = DEFAULT_DROP_PERCENT,
            .tick_us = DEFAULT_SAMPLE_MS * 1000,
            .interval_ms = DEFAULT_INTERVAL_MS,
            .port_fd = -1,
            .psi_fd = -1,
        };
        bool once = false;
        unsigned long value;
        int opt;

        while ((opt = getopt_long(argc, argv, "vhV", options, NULL)) != -1) {
                switch (opt) {
                case OPT_PORT:
                        agent.port_path = optarg;
                        break;
                case OPT_INTERVAL:
                        if (!parse_uint(optarg, VT_AGENT_INTERVAL_MIN, VT_AGENT_INTERVAL_MAX,
                                        &value)) {
                                log_msg("--interval: '%s' is not %d..%d ms", optarg,
                                        VT_AGENT_INTERVAL_MIN, VT_AGENT_INTERVAL_MAX);
                                return 2;
                        }
                        agent.interval_ms = (uint32_t)value;
                        break;
                case OPT_PSI:
                        if (strlen(optarg) > PSI_TRIGGER_MAX || optarg[0] == '\0') {
                                log_msg("--psi-trigger: '%s' is empty or too long", optarg);
                                return 2;
                        }
                        agent.psi_trigger = strcmp(optarg, "none") == 0 ? NULL : optarg;
                        break;
                case OPT_DROP:
                        if (!parse_uint(optarg, 0, 100, &value)) {
                                log_msg("--drop-percent: '%s' is not 0..100", optarg);
                                return 2;
                        }
                        agent.drop_percent = (unsigned)value;
                        break;
                case OPT_SAMPLE:
                        if (!parse_uint(optarg, SAMPLE_MS_MIN, 1000, &value)) {
                                log_msg("--sample-ms: '%s' is not %d..1000", optarg, SAMPLE_MS_MIN);
                                return 2;
                        }
                        agent.tick_us = (int64_t)value * 1000;
                        break;
                case OPT_ROOT:
                        agent.proc_root = optarg;
                        break;
                case OPT_ONCE:
                        once = true;
                        break;
                case 'v':
                        agent.verbose = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("vmtide-agent %s\n", VT_VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                log_msg("unexpected argument '%s'", argv[optind]);
                usage(stderr);
                return 2;
        }
        /*
         * json-c seeds its default string hash from /dev/urandom on first use,
         * which early in a guest's boot (CRNG not ready, no virtio-rng) spins in
         * try_to_generate_entropy() for up to a second of CPU. The Perl-like
         * hash needs no seed; the objects here are small and bounded.
         */
        json_global_set_string_hash(JSON_C_STR_HASH_PERLLIKE);
        if (once)
                return run_once(&agent);
        return agent_run(&agent);
}
