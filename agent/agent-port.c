/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's port: finding and opening it, noticing the host come and go,
 * writing what is pending (a hello, the newest report) and reading what the
 * host sends. See agent-loop.c for why the port is polled only while the
 * host is connected and why output is never queued.
 */
#include "agent/agent-state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vt-file.h"

#define READS_PER_WAKEUP 64 /* then back to ppoll(), so a flooding host cannot starve the rest */

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

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
                if (vt_file_read(path, line, sizeof(line)) < 0)
                        continue;
                line[strcspn(line, "\n")] = '\0';
                if (strcmp(line, name) == 0 &&
                    (size_t)snprintf(buf, size, "/dev/%s", de->d_name) < size)
                        found = true;
        }
        closedir(dir);
        return found;
}

/**
 * vt_agent_port_open() - Open the port if it exists and is free.
 * @agent: the agent
 *
 * Return: 0 on success, -errno on failure (ENOENT: not there yet; EBUSY:
 * another process has it open)
 */
int
vt_agent_port_open(VtAgent *agent)
{
        char sysfs_path[300];
        int fd, flags;

        fd = open(agent->port_path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == ENOENT &&
            strncmp(agent->port_path, VT_AGENT_PORT_DIR, strlen(VT_AGENT_PORT_DIR)) == 0 &&
            port_find_in_sysfs(agent->port_path + strlen(VT_AGENT_PORT_DIR), sysfs_path,
                               sizeof(sysfs_path)))
                fd = open(sysfs_path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* SIGIO on host open/close and on input (virtio_console's fasync). */
        flags = fcntl(fd, F_GETFL);
        if (fcntl(fd, F_SETOWN, getpid()) < 0 || flags < 0 ||
            fcntl(fd, F_SETFL, flags | O_ASYNC) < 0)
                vt_agent_log("no SIGIO on '%s' (%s): host reconnections are seen at the next tick",
                             agent->port_path, strerror(errno));
        agent->port_fd = fd;
        return 0;
}

/**
 * vt_agent_queue_report() - Ask for a report to go out as soon as the port takes it.
 * @agent: the agent
 * @reason: why
 *
 * A pending event reason is not overwritten by a periodic one.
 */
void
vt_agent_queue_report(VtAgent *agent, VtAgentReason reason)
{
        if (!agent->host_connected)
                return;
        if (!agent->want_report || reason != VT_AGENT_REASON_PERIODIC)
                agent->want_reason = reason;
        agent->want_report = true;
}

/**
 * vt_agent_host_set_lost() - Forget the connection's pending input and output.
 * @agent: the agent
 * @why: for the log
 */
void
vt_agent_host_set_lost(VtAgent *agent, const char *why)
{
        if (agent->host_connected)
                vt_agent_log("host disconnected (%s)", why);
        agent->host_connected = false;
        agent->port_blocked = false;
        agent->in_len = 0;
        agent->in_overflow = false;
        free(agent->out);
        agent->out = NULL;
        agent->want_hello = false;
        agent->want_report = false;
}

void
vt_agent_port_close(VtAgent *agent, const char *why)
{
        vt_agent_host_set_lost(agent, why);
        if (agent->port_fd >= 0)
                close(agent->port_fd);
        agent->port_fd = -1;
}

/**
 * vt_agent_port_check_host() - Notice the host connecting: no POLLHUP any more.
 * @agent: the agent, with the port open and the host not connected
 * @now: CLOCK_MONOTONIC µs
 */
void
vt_agent_port_check_host(VtAgent *agent, int64_t now)
{
        struct pollfd pfd = {.fd = agent->port_fd, .events = POLLIN};

        if (poll(&pfd, 1, 0) < 0)
                return;
        if (pfd.revents & POLLNVAL) {
                vt_agent_port_close(agent, "port invalid");
                return;
        }
        if (pfd.revents & POLLHUP)
                return;
        vt_agent_log("host connected on '%s'", agent->port_path);
        agent->host_connected = true;
        agent->want_hello = true;
        vt_agent_queue_report(agent, VT_AGENT_REASON_PERIODIC);
        agent->next_periodic_us = now + (int64_t)agent->interval_ms * 1000;
}

/**
 * vt_agent_sample_report() - Sample /proc and build a report line with the pending reason.
 * @agent: the agent
 *
 * Return: (transfer full) the line, or NULL if /proc could not be read
 */
char *
vt_agent_sample_report(VtAgent *agent)
{
        VtAgentReportMeta meta = {0};
        VtAgentSample sample;
        int ret;

        ret = vt_agent_sample_read(agent->proc_root, &sample);
        if (ret < 0) {
                if (!agent->sample_failed)
                        vt_agent_log("cannot read '%s/meminfo': %s", agent->proc_root,
                                     strerror(-ret));
                agent->sample_failed = true;
                return NULL;
        }
        agent->sample_failed = false;
        vt_agent_sample_read_zram(agent->sys_root, agent->proc_root, &sample);
        meta.seq = agent->seq + 1;
        meta.reason = agent->want_reason;
        meta.uptime_ms = (uint64_t)vt_agent_now_us() / 1000;
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
port_write(VtAgent *agent)
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
                        line = vt_agent_sample_report(agent);
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
 * vt_agent_port_flush() - Send what is pending, if the host is there and the port not full.
 * @agent: the agent
 */
void
vt_agent_port_flush(VtAgent *agent)
{
        int ret;

        if (!agent->host_connected || agent->port_blocked)
                return;
        ret = port_write(agent);
        if (ret == -EAGAIN)
                agent->port_blocked = true; /* POLLOUT or POLLHUP will tell */
        else if (ret < 0)
                vt_agent_port_close(agent, strerror(-ret));
}

/**
 * vt_agent_port_read() - Read what the host sent; notice it leaving.
 * @agent: the agent, with the host connected
 * @now: CLOCK_MONOTONIC µs
 */
void
vt_agent_port_read(VtAgent *agent, int64_t now)
{
        for (int i = 0; i < READS_PER_WAKEUP && agent->host_connected; i++) {
                char buf[4096];
                ssize_t n = read(agent->port_fd, buf, sizeof(buf));

                if (n > 0) {
                        vt_agent_input_handle(agent, buf, (size_t)n, now);
                        continue;
                }
                if (n == 0) {
                        /* virtio_console: no data and the host side is closed. */
                        vt_agent_host_set_lost(agent, "end of file");
                        return;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        vt_agent_port_close(agent, strerror(errno));
                return;
        }
}
