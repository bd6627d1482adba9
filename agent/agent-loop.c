/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's loop: the tick, the PSI trigger and the port's events.
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
#include "agent/agent-state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vt-config.h"

#define PRESSURE_GAP_US INT64_C(500000)

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_io;

static void
on_signal(int sig)
{
        if (sig == SIGIO)
                got_io = 1;
        else
                got_term = 1;
}

/**
 * psi_setup() - Arm the PSI trigger, if configured and the kernel accepts it.
 * @agent: the agent
 */
static void
psi_setup(VtAgent *agent)
{
        char path[4096];
        int fd;

        if (!agent->psi_trigger)
                return;
        snprintf(path, sizeof(path), "%s/pressure/memory", agent->proc_root);
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                vt_agent_log("no PSI trigger: cannot open '%s': %s", path, strerror(errno));
                return;
        }
        /* The kernel takes the trigger with its NUL. */
        if (write(fd, agent->psi_trigger, strlen(agent->psi_trigger) + 1) < 0) {
                vt_agent_log("no PSI trigger: the kernel refused '%s': %s", agent->psi_trigger,
                             strerror(errno));
                close(fd);
                return;
        }
        vt_agent_log("PSI trigger '%s' armed", agent->psi_trigger);
        agent->psi_fd = fd;
}

/**
 * on_pressure() - The PSI trigger fired: report now, or as soon as the rate limit allows.
 * @agent: the agent
 * @now: CLOCK_MONOTONIC µs
 */
static void
on_pressure(VtAgent *agent, int64_t now)
{
        if (now - agent->last_pressure_us >= PRESSURE_GAP_US) {
                agent->last_pressure_us = now;
                agent->pressure_pending = false;
                if (agent->verbose)
                        vt_agent_log("memory pressure: reporting");
                vt_agent_queue_report(agent, VT_AGENT_REASON_PRESSURE);
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
check_drop(VtAgent *agent)
{
        unsigned size = (unsigned)(VT_AGENT_DROP_WINDOW_US / agent->tick_us);
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
                        vt_agent_log("MemAvailable fell by %" PRIu64 " KiB within 1 s: reporting",
                                     (high - available) / 1024);
                vt_agent_queue_report(agent, VT_AGENT_REASON_DROP);
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
tick(VtAgent *agent, int64_t now)
{
        agent->next_tick_us += agent->tick_us;
        if (agent->next_tick_us <= now)
                agent->next_tick_us = now + agent->tick_us;

        if (agent->port_fd < 0) {
                int ret = vt_agent_port_open(agent);

                if (ret == 0) {
                        vt_agent_log("opened '%s'", agent->port_path);
                        agent->port_open_errno = 0;
                } else if (-ret != agent->port_open_errno) {
                        agent->port_open_errno = -ret;
                        vt_agent_log("cannot open '%s': %s; retrying", agent->port_path,
                                     strerror(-ret));
                }
        }
        if (agent->port_fd >= 0 && !agent->host_connected)
                vt_agent_port_check_host(agent, now);
        check_drop(agent);
}

static int64_t
min_i64(int64_t a, int64_t b)
{
        return a < b ? a : b;
}

/**
 * signals_setup() - Block SIGIO, SIGTERM and SIGINT but inside ppoll(), and catch them.
 * @ret_wait_mask: receives the mask for ppoll(), which lets them through
 */
static void
signals_setup(sigset_t *ret_wait_mask)
{
        struct sigaction sa = {.sa_handler = on_signal};
        sigset_t blocked;

        sigemptyset(&blocked);
        sigaddset(&blocked, SIGIO);
        sigaddset(&blocked, SIGTERM);
        sigaddset(&blocked, SIGINT);
        sigprocmask(SIG_BLOCK, &blocked, ret_wait_mask);
        sigdelset(ret_wait_mask, SIGIO);
        sigdelset(ret_wait_mask, SIGTERM);
        sigdelset(ret_wait_mask, SIGINT);
        sigemptyset(&sa.sa_mask);
        sigaction(SIGIO, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
}

/**
 * run_due() - Do what is due before sleeping: the tick, a host that came
 *             back, the periodic report, a held-back pressure report, output.
 * @agent: the agent
 * @now: CLOCK_MONOTONIC µs
 */
static void
run_due(VtAgent *agent, int64_t now)
{
        if (now >= agent->next_tick_us)
                tick(agent, now);
        if (got_io) {
                got_io = 0;
                if (agent->port_fd >= 0 && !agent->host_connected)
                        vt_agent_port_check_host(agent, now);
        }
        if (agent->host_connected && now >= agent->next_periodic_us) {
                vt_agent_queue_report(agent, VT_AGENT_REASON_PERIODIC);
                agent->next_periodic_us += (int64_t)agent->interval_ms * 1000;
                if (agent->next_periodic_us <= now)
                        agent->next_periodic_us = now + (int64_t)agent->interval_ms * 1000;
        }
        if (agent->pressure_pending && now >= agent->last_pressure_us + PRESSURE_GAP_US)
                on_pressure(agent, now);
        vt_agent_port_flush(agent);
}

/**
 * next_deadline() - When the loop must wake up at the latest.
 * @agent: the agent
 *
 * Return: CLOCK_MONOTONIC µs
 */
static int64_t
next_deadline(const VtAgent *agent)
{
        int64_t deadline = agent->next_tick_us;

        if (agent->host_connected)
                deadline = min_i64(deadline, agent->next_periodic_us);
        if (agent->pressure_pending)
                deadline = min_i64(deadline, agent->last_pressure_us + PRESSURE_GAP_US);
        return deadline;
}

/**
 * on_port_events() - Act on what ppoll() said of the port.
 * @agent: the agent, with the host connected
 * @revents: the port's events
 * @now: CLOCK_MONOTONIC µs
 */
static void
on_port_events(VtAgent *agent, short revents, int64_t now)
{
        if (revents & POLLOUT)
                agent->port_blocked = false;
        if (revents & (POLLIN | POLLHUP))
                vt_agent_port_read(agent, now);
        if (revents & POLLNVAL)
                vt_agent_port_close(agent, "port invalid");
        else if (revents & (POLLHUP | POLLERR))
                vt_agent_host_set_lost(agent, "hang-up");
}

/**
 * on_psi_events() - Act on what ppoll() said of the PSI trigger.
 * @agent: the agent, with a trigger
 * @revents: the trigger's events
 * @now: CLOCK_MONOTONIC µs
 */
static void
on_psi_events(VtAgent *agent, short revents, int64_t now)
{
        if (revents & (POLLERR | POLLNVAL)) {
                vt_agent_log("PSI trigger failed: running without it");
                close(agent->psi_fd);
                agent->psi_fd = -1;
        } else if (revents & POLLPRI) {
                on_pressure(agent, now);
        }
}

/**
 * wait_and_dispatch() - Sleep in ppoll() until an event or the next deadline, then act.
 * @agent: the agent
 * @wait_mask: the signal mask inside ppoll()
 *
 * Return: 0, or -1 if ppoll() failed (logged)
 */
static int
wait_and_dispatch(VtAgent *agent, const sigset_t *wait_mask)
{
        struct pollfd fds[2];
        int64_t deadline = next_deadline(agent), now;
        struct timespec timeout;
        nfds_t n_fds = 0;
        int port_idx = -1, psi_idx = -1;

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
        now = vt_agent_now_us();
        deadline = deadline > now ? deadline - now : 0;
        timeout.tv_sec = deadline / 1000000;
        timeout.tv_nsec = (deadline % 1000000) * 1000;
        if (ppoll(fds, n_fds, &timeout, wait_mask) < 0) {
                if (errno == EINTR)
                        return 0;
                vt_agent_log("ppoll: %s", strerror(errno));
                return -1;
        }
        now = vt_agent_now_us();
        if (port_idx >= 0 && fds[port_idx].revents)
                on_port_events(agent, fds[port_idx].revents, now);
        if (psi_idx >= 0 && fds[psi_idx].revents)
                on_psi_events(agent, fds[psi_idx].revents, now);
        return 0;
}

/**
 * vt_agent_run() - The main loop, until SIGTERM or SIGINT.
 * @agent: the agent, options set
 *
 * Return: the exit status
 */
int
vt_agent_run(VtAgent *agent)
{
        sigset_t wait_mask;

        signals_setup(&wait_mask);
        vt_agent_log("version %s, port '%s', interval %" PRIu32 " ms", VT_VERSION, agent->port_path,
                     agent->interval_ms);
        psi_setup(agent);
        agent->next_tick_us = vt_agent_now_us();

        while (!got_term) {
                run_due(agent, vt_agent_now_us());
                if (wait_and_dispatch(agent, &wait_mask) < 0)
                        return 1;
        }
        vt_agent_log("exiting on signal");
        vt_agent_port_close(agent, "agent exiting");
        if (agent->psi_fd >= 0)
                close(agent->psi_fd);
        return 0;
}
