/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vt-workload: the test guest's memory workload, driven by the host over the
 * virtio-serial port "org.vmtide.test.workload". Static, libc only.
 *
 * Theory of operation: the port appears asynchronously after virtio_console
 * loads (the host names it with a control message and the kernel then sends
 * a "change" uevent), so the workload subscribes to kernel uevents first and
 * then looks the name up in sysfs, again after each uevent, until found:
 * no race, no polling, no reliance on the /dev/virtio-ports symlink.
 *
 * The port fd is blocking. A write blocks until the host side is connected,
 * so "ready <MemTotal>" goes out as soon as the host listens. A read returns
 * 0 while the host is not connected: the workload then reopens the port and
 * announces itself again, which makes host reconnections work and never
 * spins. Each command line gets exactly one reply line:
 *
 *   ping            -> pong
 *   alloc <bytes>   -> ok <total allocated bytes> | err <reason>
 *   free            -> ok 0
 *   meminfo         -> ok <MemTotal> <MemFree> <MemAvailable>   (bytes)
 *   dirty <rate> <bytes>
 *                   -> ok <buffer bytes> | err <reason>
 *                      dirty a buffer of <bytes> at <rate> bytes per second
 *                      (a new buffer replaces the last; "dirty 0 0" stops)
 *   check           -> ok <allocated> <checksum> <buffer bytes> <bad pages>
 *                      <allocated> and a checksum (16 hex digits) of what
 *                      "alloc" wrote, which never changes until "free";
 *                      the dirty buffer's size and how many of its pages
 *                      lost their tag (0 when memory survived)
 *   zram <disksize> <algorithm>
 *                   -> ok <disksize> | err <reason>
 *                      set zram0 up as swap: its comp_algorithm, then its
 *                      disksize (bytes), then busybox mkswap and swapon (the
 *                      guest's only swap); "ok" at once if zram0 is swap already
 *   anything else   -> err unknown command
 *
 * Allocated pages each hold their index and a random word, so KSM cannot
 * merge them. The dirty buffer's pages each hold a tag (their index, mixed)
 * in the first word and a counter in the second: while a rate is set the
 * workload waits for commands with poll() and a 10 ms timeout and, at each
 * wake-up, writes the counter of as many pages as the rate allows since
 * the rate was set (in order, wrapping around the buffer), so a window W
 * dirties min(rate * W, buffer) distinct bytes. Falling behind by more than
 * a second (the guest was paused) skips ahead instead of catching up. The workload sets its
 * oom_score_adj to 1000: under memory pressure it is killed first, and /init restarts it ("ready"
 * again). "alloc" pages compress well (16 bytes of data in 4 KiB): with zram as swap, allocating
 * beyond MemAvailable pushes them into it and "check" reads them back (swap-in).
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT_NAME       "org.vmtide.test.workload"
#define LINE_MAX_BYTES  256
#define MAX_CHUNKS      4096
#define REPLY_MAX_BYTES 256
#define DIRTY_TICK_MS   10
#define DIRTY_TAG       0x5654444952545921ULL /* mixed into each page's tag */
#define FNV_OFFSET      0xcbf29ce484222325ULL
#define FNV_PRIME       0x100000001b3ULL
#define ZRAM_SYSFS      "/sys/block/zram0"
#define ZRAM_DEVICE     "/dev/zram0"
#define BUSYBOX         "/bin/busybox"

struct chunk {
        void *addr;
        size_t len;
};

static struct chunk chunks[MAX_CHUNKS];
static size_t n_chunks;
static uint64_t allocated_bytes;
static uint64_t rng_state;

/* The dirty buffer and its pace. */
static uint8_t *dirty_buf;
static size_t dirty_len;
static uint64_t dirty_rate;    /* bytes per second; 0: idle */
static uint64_t dirty_t0_ns;   /* when the rate was set */
static uint64_t dirty_done;    /* bytes written since dirty_t0_ns */
static size_t dirty_pos;       /* the next page's offset */
static uint64_t dirty_counter; /* pages written, ever */

static void log_console(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * log_console() - Print one status line on stderr (the guest console).
 * @fmt: printf format, without the newline
 */
static void
log_console(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("vt-workload: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

/**
 * rng_next() - xorshift64*: cheap per-page randomness, no KSM merging.
 *
 * Return: the next pseudo-random value
 */
static uint64_t
rng_next(void)
{
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * 0x2545F4914F6CDD1DULL;
}

/**
 * find_port() - Look the port's device name up in sysfs.
 * @buf: receives "/dev/vportNpM"
 * @size: size of @buf
 *
 * Return: 0 if found, -ENOENT if not (yet)
 */
static int
find_port(char *buf, size_t size)
{
        DIR *dir = opendir("/sys/class/virtio-ports");
        struct dirent *de;
        int ret = -ENOENT;

        if (!dir)
                return -ENOENT;
        while ((de = readdir(dir))) {
                char path[512], name[128];
                FILE *f;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                if (fgets(name, sizeof(name), f)) {
                        name[strcspn(name, "\n")] = '\0';
                        if (strcmp(name, PORT_NAME) == 0) {
                                snprintf(buf, size, "/dev/%s", de->d_name);
                                ret = 0;
                        }
                }
                fclose(f);
                if (ret == 0)
                        break;
        }
        closedir(dir);
        return ret;
}

/**
 * wait_port() - Wait, event-driven, until the named port exists.
 * @buf: receives the device path
 * @size: size of @buf
 *
 * Return: 0 on success, -errno if uevents cannot be received
 */
static int
wait_port(char *buf, size_t size)
{
        struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = 1};
        char msg[8192];
        int fd;

        /* Subscribe before looking, so that no uevent is missed. */
        fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                int ret = -errno;

                close(fd);
                return ret;
        }
        while (find_port(buf, size) < 0) {
                /* Any uevent (or ENOBUFS after an overflow) is a reason to look again. */
                if (recv(fd, msg, sizeof(msg), 0) < 0 && errno != ENOBUFS && errno != EINTR) {
                        int ret = -errno;

                        close(fd);
                        return ret;
                }
        }
        close(fd);
        return 0;
}

/**
 * read_meminfo() - Read MemTotal, MemFree and MemAvailable from /proc/meminfo.
 * @total: receives MemTotal in bytes
 * @free_: receives MemFree in bytes
 * @available: receives MemAvailable in bytes
 *
 * Return: 0 on success, -errno or -EINVAL on failure
 */
static int
read_meminfo(uint64_t *total, uint64_t *free_, uint64_t *available)
{
        FILE *f = fopen("/proc/meminfo", "re");
        char line[256];
        int found = 0;

        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                unsigned long long kib;

                if (sscanf(line, "MemTotal: %llu kB", &kib) == 1) {
                        *total = kib * 1024;
                        found |= 1;
                } else if (sscanf(line, "MemFree: %llu kB", &kib) == 1) {
                        *free_ = kib * 1024;
                        found |= 2;
                } else if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) {
                        *available = kib * 1024;
                        found |= 4;
                }
        }
        fclose(f);
        return found == 7 ? 0 : -EINVAL;
}

/**
 * write_all() - Write a whole buffer to the blocking port fd.
 * @fd: port fd
 * @buf: data
 * @len: its length
 *
 * Return: 0 on success, -errno on failure
 */
static int
write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/**
 * do_alloc() - Map, and touch with distinct data, @bytes more bytes.
 * @bytes: how many bytes to add
 * @reply: receives the reply line
 * @size: size of @reply
 */
static void
do_alloc(uint64_t bytes, char *reply, size_t size)
{
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t len;
        uint8_t *p;

        if (bytes == 0) {
                snprintf(reply, size, "ok %" PRIu64, allocated_bytes);
                return;
        }
        if (n_chunks == MAX_CHUNKS) {
                snprintf(reply, size, "err too many allocations");
                return;
        }
        if (bytes > SIZE_MAX - page) {
                snprintf(reply, size, "err size too large");
                return;
        }
        len = (size_t)(bytes + page - 1) / page * page;
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
                snprintf(reply, size, "err mmap: %s", strerror(errno));
                return;
        }
        for (size_t off = 0; off < len; off += page) {
                uint64_t words[2] = {(allocated_bytes + off) / page, rng_next()};

                memcpy(p + off, words, sizeof(words));
        }
        chunks[n_chunks++] = (struct chunk){p, len};
        allocated_bytes += len;
        snprintf(reply, size, "ok %" PRIu64, allocated_bytes);
}

/**
 * do_free() - Unmap everything allocated.
 */
static void
do_free(void)
{
        for (size_t i = 0; i < n_chunks; i++)
                munmap(chunks[i].addr, chunks[i].len);
        n_chunks = 0;
        allocated_bytes = 0;
}

/**
 * now_ns() - CLOCK_MONOTONIC in nanoseconds.
 *
 * Return: the time
 */
static uint64_t
now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/**
 * dirty_tick() - Write as many dirty-buffer pages as the rate allows by now.
 */
static void
dirty_tick(void)
{
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        uint64_t due;

        if (dirty_rate == 0 || dirty_buf == NULL)
                return;
        due = (uint64_t)((double)(now_ns() - dirty_t0_ns) * (double)dirty_rate / 1e9);
        if (due > dirty_done + dirty_rate)
                dirty_done = due - page; /* paused: skip ahead, no burst */
        while (dirty_done + page <= due) {
                uint64_t *words = (uint64_t *)(dirty_buf + dirty_pos);

                words[1] = ++dirty_counter;
                dirty_pos = (dirty_pos + page) % dirty_len;
                dirty_done += page;
        }
}

/**
 * do_dirty() - Set up (or stop) dirtying a buffer at a rate.
 * @rate: bytes per second; 0 stops and frees the buffer
 * @bytes: the buffer's size, rounded up to pages
 * @reply: receives the reply line
 * @size: size of @reply
 */
static void
do_dirty(uint64_t rate, uint64_t bytes, char *reply, size_t size)
{
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t len;
        uint8_t *p;

        if (dirty_buf != NULL)
                munmap(dirty_buf, dirty_len);
        dirty_buf = NULL;
        dirty_len = 0;
        dirty_rate = 0;
        if (rate == 0 || bytes == 0) {
                snprintf(reply, size, "ok 0");
                return;
        }
        if (bytes > SIZE_MAX - page) {
                snprintf(reply, size, "err size too large");
                return;
        }
        len = (size_t)(bytes + page - 1) / page * page;
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
                snprintf(reply, size, "err mmap: %s", strerror(errno));
                return;
        }
        for (size_t off = 0; off < len; off += page) {
                uint64_t words[2] = {(off / page) ^ DIRTY_TAG, 0};

                memcpy(p + off, words, sizeof(words));
        }
        dirty_buf = p;
        dirty_len = len;
        dirty_rate = rate;
        dirty_t0_ns = now_ns();
        dirty_done = 0;
        dirty_pos = 0;
        snprintf(reply, size, "ok %zu", len);
}

/**
 * do_check() - Checksum what "alloc" wrote; count dirty pages without their tag.
 * @reply: receives the reply line
 * @size: size of @reply
 */
static void
do_check(char *reply, size_t size)
{
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        uint64_t hash = FNV_OFFSET, bad = 0;

        for (size_t i = 0; i < n_chunks; i++) {
                for (size_t off = 0; off < chunks[i].len; off += page) {
                        const uint8_t *b = (const uint8_t *)chunks[i].addr + off;

                        for (size_t k = 0; k < 2 * sizeof(uint64_t); k++)
                                hash = (hash ^ b[k]) * FNV_PRIME;
                }
        }
        for (size_t off = 0; off < dirty_len; off += page) {
                uint64_t tag;

                memcpy(&tag, dirty_buf + off, sizeof(tag));
                bad += tag != ((off / page) ^ DIRTY_TAG);
        }
        snprintf(reply, size, "ok %" PRIu64 " %016" PRIx64 " %zu %" PRIu64, allocated_bytes, hash,
                 dirty_len, bad);
}

/**
 * write_sysfs() - Write a value to a sysfs file.
 * @path: the file
 * @value: what to write
 *
 * Return: 0 on success, -errno on failure
 */
static int
write_sysfs(const char *path, const char *value)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        int ret = 0;

        if (fd < 0)
                return -errno;
        if (write(fd, value, strlen(value)) < 0)
                ret = -errno;
        close(fd);
        return ret;
}

/**
 * run_busybox() - Run a busybox applet with one argument and wait for it.
 * @applet: the applet, e.g. "mkswap"
 * @arg: its argument
 *
 * Return: 0 if it exited with status 0, -errno if it could not run, or
 * -EIO if it failed
 */
static int
run_busybox(const char *applet, const char *arg)
{
        pid_t pid = fork();
        int status;

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                execl(BUSYBOX, BUSYBOX, applet, arg, (char *)NULL);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR)
                        return -errno;
        }
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/**
 * zram_is_swap() - Whether /proc/swaps lists zram0.
 *
 * Return: 1 if it does, 0 if not
 */
static int
zram_is_swap(void)
{
        FILE *f = fopen("/proc/swaps", "re");
        char line[256];
        int found = 0;

        if (!f)
                return 0;
        while (!found && fgets(line, sizeof(line), f))
                found = strncmp(line, ZRAM_DEVICE " ", strlen(ZRAM_DEVICE) + 1) == 0;
        fclose(f);
        return found;
}

/**
 * do_zram() - Set zram0 up as swap.
 * @disksize: its disksize, bytes
 * @algorithm: its compression algorithm, e.g. "lzo-rle"
 * @reply: receives the reply line
 * @size: size of @reply
 */
static void
do_zram(uint64_t disksize, const char *algorithm, char *reply, size_t size)
{
        char value[32];
        int ret;

        if (zram_is_swap()) {
                snprintf(reply, size, "ok %" PRIu64, disksize);
                return;
        }
        if (access(ZRAM_SYSFS, F_OK) < 0) {
                snprintf(reply, size, "err no %s: zram module not loaded", ZRAM_SYSFS);
                return;
        }
        /* The algorithm can only change while disksize is 0. */
        ret = write_sysfs(ZRAM_SYSFS "/comp_algorithm", algorithm);
        if (ret < 0) {
                snprintf(reply, size, "err comp_algorithm '%s': %s", algorithm, strerror(-ret));
                return;
        }
        snprintf(value, sizeof(value), "%" PRIu64, disksize);
        ret = write_sysfs(ZRAM_SYSFS "/disksize", value);
        if (ret < 0) {
                snprintf(reply, size, "err disksize %s: %s", value, strerror(-ret));
                return;
        }
        ret = run_busybox("mkswap", ZRAM_DEVICE);
        if (ret == 0)
                ret = run_busybox("swapon", ZRAM_DEVICE);
        if (ret < 0) {
                snprintf(reply, size, "err mkswap/swapon %s: %s", ZRAM_DEVICE, strerror(-ret));
                return;
        }
        log_console("zram0 is swap: %s bytes, %s", value, algorithm);
        snprintf(reply, size, "ok %" PRIu64, disksize);
}

/**
 * parse_u64() - Parse a decimal unsigned number that ends at a space or NUL.
 * @arg: the text
 * @ret_end: receives where it ended
 * @ret_value: receives the number
 *
 * Return: 0 on success, -EINVAL if not a number
 */
static int
parse_u64(const char *arg, const char **ret_end, uint64_t *ret_value)
{
        char *end;
        unsigned long long value;

        errno = 0;
        value = strtoull(arg, &end, 10);
        if (errno || end == arg || *arg == '-' || (*end != '\0' && *end != ' '))
                return -EINVAL;
        *ret_end = end;
        *ret_value = value;
        return 0;
}

/**
 * handle_line() - Execute one command line.
 * @line: the command, NUL-terminated, without the newline
 * @reply: receives the reply line, without the newline
 * @size: size of @reply
 */
static void
handle_line(const char *line, char *reply, size_t size)
{
        uint64_t total, free_, available;

        if (strcmp(line, "ping") == 0) {
                snprintf(reply, size, "pong");
        } else if (strncmp(line, "alloc ", 6) == 0) {
                const char *arg = line + 6;
                char *end;
                unsigned long long bytes;

                errno = 0;
                bytes = strtoull(arg, &end, 10);
                if (errno || end == arg || *end != '\0' || *arg == '-')
                        snprintf(reply, size, "err invalid size");
                else
                        do_alloc(bytes, reply, size);
        } else if (strncmp(line, "dirty ", 6) == 0) {
                const char *end;
                uint64_t rate, len;

                if (parse_u64(line + 6, &end, &rate) < 0 || *end != ' ' ||
                    parse_u64(end + 1, &end, &len) < 0 || *end != '\0')
                        snprintf(reply, size, "err usage: dirty <rate> <bytes>");
                else
                        do_dirty(rate, len, reply, size);
        } else if (strncmp(line, "zram ", 5) == 0) {
                const char *end;
                uint64_t disksize;

                if (parse_u64(line + 5, &end, &disksize) < 0 || disksize == 0 || *end != ' ' ||
                    end[1] == '\0' || strlen(end + 1) > 32 || strchr(end + 1, ' ') != NULL)
                        snprintf(reply, size, "err usage: zram <disksize> <algorithm>");
                else
                        do_zram(disksize, end + 1, reply, size);
        } else if (strcmp(line, "check") == 0) {
                do_check(reply, size);
        } else if (strcmp(line, "free") == 0) {
                do_free();
                snprintf(reply, size, "ok 0");
        } else if (strcmp(line, "meminfo") == 0) {
                int ret = read_meminfo(&total, &free_, &available);

                if (ret < 0)
                        snprintf(reply, size, "err meminfo: %s", strerror(-ret));
                else
                        snprintf(reply, size, "ok %" PRIu64 " %" PRIu64 " %" PRIu64, total, free_,
                                 available);
        } else {
                snprintf(reply, size, "err unknown command");
        }
}

/**
 * serve() - Announce readiness and answer commands until the host leaves.
 * @fd: the port, open and blocking
 *
 * Return: 0 when the host disconnected, -errno on an I/O error
 */
static int
serve(int fd)
{
        char line[LINE_MAX_BYTES + 1], reply[REPLY_MAX_BYTES];
        uint64_t total = 0, free_ = 0, available = 0;
        size_t used = 0;
        int overflow = 0, ret;

        read_meminfo(&total, &free_, &available);
        snprintf(reply, sizeof(reply), "ready %" PRIu64 "\n", total);
        ret = write_all(fd, reply, strlen(reply));
        if (ret < 0)
                return ret;
        log_console("ready (MemTotal %" PRIu64 " bytes)", total);

        for (;;) {
                char buf[512];
                ssize_t n;

                if (dirty_rate != 0) {
                        struct pollfd pfd = {.fd = fd, .events = POLLIN};
                        int ready = poll(&pfd, 1, DIRTY_TICK_MS);

                        dirty_tick();
                        if (ready < 0 && errno != EINTR)
                                return -errno;
                        if (ready <= 0)
                                continue;
                }
                n = read(fd, buf, sizeof(buf));

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return 0;
                for (ssize_t i = 0; i < n; i++) {
                        if (buf[i] != '\n') {
                                if (used < LINE_MAX_BYTES)
                                        line[used++] = buf[i];
                                else
                                        overflow = 1;
                                continue;
                        }
                        line[used] = '\0';
                        if (used > 0 && line[used - 1] == '\r')
                                line[used - 1] = '\0';
                        if (overflow)
                                snprintf(reply, sizeof(reply), "err line too long");
                        else
                                handle_line(line, reply, sizeof(reply));
                        used = 0;
                        overflow = 0;
                        strcat(reply, "\n");
                        ret = write_all(fd, reply, strlen(reply));
                        if (ret < 0)
                                return ret;
                }
        }
}

int
main(void)
{
        char path[sizeof(((struct dirent *)0)->d_name) + 8];
        struct timespec ts;
        int fd, ret;

        clock_gettime(CLOCK_REALTIME, &ts);
        rng_state = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
        rng_state |= 1;

        /* Be the OOM killer's first choice: /init restarts us, the agent stays. */
        fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                if (write(fd, "1000", 4) < 0)
                        log_console("cannot set oom_score_adj: %s", strerror(errno));
                close(fd);
        }

        ret = wait_port(path, sizeof(path));
        if (ret < 0) {
                log_console("cannot wait for port '%s': %s", PORT_NAME, strerror(-ret));
                return 1;
        }
        for (;;) {
                fd = open(path, O_RDWR | O_CLOEXEC);
                if (fd < 0) {
                        log_console("cannot open '%s': %s", path, strerror(errno));
                        return 1;
                }
                ret = serve(fd);
                close(fd);
                if (ret < 0) {
                        log_console("I/O error on '%s': %s", path, strerror(-ret));
                        return 1;
                }
                log_console("host disconnected, waiting for it again");
        }
}
