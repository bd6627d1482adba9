/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reads /proc/meminfo, /proc/vmstat and /proc/pressure/memory (under an
 * overridable root, for tests) and the agent's own resource use. The parsing
 * is in agent-proc.c.
 */
#include "agent/agent-proc.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/vt-file.h"

/* /proc/vmstat of 6.x is about 5 KiB; a bigger file is cut at a line boundary. */
#define PROC_FILE_MAX (64 * 1024)

static char file_buf[PROC_FILE_MAX];

/**
 * read_text() - Read a /proc file into file_buf, NUL-terminated.
 * @root: the proc root ("/proc")
 * @name: the file under it ("meminfo")
 *
 * If the file does not fit, the last, partial line is dropped so that no
 * number is read cut short.
 *
 * Return: 0 on success, -errno on failure
 */
static int
read_text(const char *root, const char *name)
{
        char path[4096];
        ssize_t len;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, name) >= sizeof(path))
                return -ENAMETOOLONG;
        len = vt_file_read_lines(path, file_buf, sizeof(file_buf));
        return len < 0 ? (int)len : 0;
}

/**
 * vt_agent_sample_read_meminfo() - Read only /proc/meminfo (the cheap 1 s sample).
 * @proc_root: the proc root, "/proc" normally
 * @ret_sample: zeroed, then its mem part filled; written only on success
 *
 * Return: 0 on success; -errno if the file cannot be read, -ENODATA if it
 * lacks MemTotal
 */
int
vt_agent_sample_read_meminfo(const char *proc_root, VtAgentSample *ret_sample)
{
        VtAgentSample sample = {{0}};
        int ret;

        ret = read_text(proc_root, "meminfo");
        if (ret < 0)
                return ret;
        vt_agent_parse_meminfo(file_buf, &sample);
        if (!sample.has_mem[VT_AGENT_MEM_TOTAL])
                return -ENODATA;
        *ret_sample = sample;
        return 0;
}

/**
 * vt_agent_sample_read() - Read a full sample.
 * @proc_root: the proc root, "/proc" normally
 * @ret_sample: receives the sample; written only on success
 *
 * vmstat and pressure/memory are optional (a kernel without PSI, or with
 * PSI disabled, has no or an unreadable pressure file): what is missing is
 * left out.
 *
 * Return: 0 on success, or the error of vt_agent_sample_read_meminfo()
 */
int
vt_agent_sample_read(const char *proc_root, VtAgentSample *ret_sample)
{
        VtAgentSample sample;
        int ret;

        ret = vt_agent_sample_read_meminfo(proc_root, &sample);
        if (ret < 0)
                return ret;
        if (read_text(proc_root, "vmstat") == 0)
                vt_agent_parse_vmstat(file_buf, &sample);
        if (read_text(proc_root, "pressure/memory") == 0)
                vt_agent_parse_psi(file_buf, &sample);
        *ret_sample = sample;
        return 0;
}

/* The zram devices, by number. */
static int
zram_compare(const void *a, const void *b)
{
        unsigned long x = strtoul(((const VtAgentZram *)a)->name + 4, NULL, 10);
        unsigned long y = strtoul(((const VtAgentZram *)b)->name + 4, NULL, 10);

        return x < y ? -1 : x > y;
}

/* Whether @name is "zram" and 1 to VT_AGENT_ZRAM_NAME_MAX digits. */
static bool
zram_name_ok(const char *name)
{
        size_t len = strlen(name);

        if (strncmp(name, "zram", 4) != 0 || len == 4 || len > 4 + VT_AGENT_ZRAM_NAME_MAX)
                return false;
        return strspn(name + 4, "0123456789") == len - 4;
}

/**
 * vt_agent_sample_read_zram() - Add the guest's zram devices to @sample.
 * @sys_root: the sysfs root, "/sys" normally
 * @proc_root: the proc root, "/proc" normally (for swaps)
 * @sample: its zram part is replaced
 *
 * Takes the devices /sys/block/zram* in use: holding data, or swap (in
 * /proc/swaps); an unused one (disksize 0, or empty and not swap) is left
 * out, and so is one whose mm_stat does not parse. At most
 * VT_AGENT_ZRAM_MAX, the lowest numbers first. A guest without zram (no
 * module loaded) has none: nothing is an error.
 */
void
vt_agent_sample_read_zram(const char *sys_root, const char *proc_root, VtAgentSample *sample)
{
        VtAgentZram found[VT_AGENT_ZRAM_MAX * 4];
        char path[4096], text[512];
        unsigned n = 0;
        bool have_swaps;
        struct dirent *entry;
        DIR *dir;

        sample->n_zram = 0;
        if ((size_t)snprintf(path, sizeof(path), "%s/block", sys_root) >= sizeof(path))
                return;
        dir = opendir(path);
        if (!dir)
                return;
        while ((entry = readdir(dir)) != NULL && n < VT_AGENT_ZRAM_MAX * 4) {
                if (!zram_name_ok(entry->d_name))
                        continue;
                memset(&found[n], 0, sizeof(found[n]));
                snprintf(found[n].name, sizeof(found[n].name), "%s", entry->d_name);
                n++;
        }
        closedir(dir);
        qsort(found, n, sizeof(found[0]), zram_compare);
        have_swaps = read_text(proc_root, "swaps") == 0;
        for (unsigned i = 0; i < n && sample->n_zram < VT_AGENT_ZRAM_MAX; i++) {
                VtAgentZram *z = &found[i];
                char device[64];

                if ((size_t)snprintf(path, sizeof(path), "%s/block/%s/mm_stat", sys_root,
                                     z->name) >= sizeof(path) ||
                    vt_file_read(path, text, sizeof(text)) < 0 || !vt_agent_parse_mm_stat(text, z))
                        continue;
                snprintf(device, sizeof(device), "/dev/%.24s", z->name);
                z->swap = have_swaps && vt_agent_parse_swaps_has(file_buf, device);
                if (!z->swap && z->orig == 0 && z->used == 0)
                        continue;
                sample->zram[sample->n_zram++] = *z;
        }
}

/**
 * read_rss() - The agent's resident set in bytes.
 * @ret_bytes: receives it, only on success
 *
 * smaps_rollup (4.14+) walks the page tables and is exact; statm, the
 * fallback, lags on kernels before 6.2, which update a process's RSS
 * counters only every 64 page faults (a small daemon may show one page).
 *
 * Return: true on success
 */
static bool
read_rss(uint64_t *ret_bytes)
{
        unsigned long long size, resident, kib;
        char text[VT_FILE_SMALL_MAX];
        const char *line;
        long page;

        if (vt_file_read_lines("/proc/self/smaps_rollup", text, sizeof(text)) >= 0) {
                for (line = text; line; line = strchr(line, '\n')) {
                        line += *line == '\n';
                        if (sscanf(line, "Rss: %llu kB", &kib) == 1 && kib <= UINT64_MAX / 1024) {
                                *ret_bytes = (uint64_t)kib * 1024;
                                return true;
                        }
                }
        }
        page = sysconf(_SC_PAGESIZE);
        if (vt_file_read("/proc/self/statm", text, sizeof(text)) >= 0 &&
            sscanf(text, "%llu %llu", &size, &resident) == 2 && page > 0) {
                *ret_bytes = (uint64_t)resident * (uint64_t)page;
                return true;
        }
        return false;
}

/**
 * vt_agent_self_read() - Read the agent's own CPU time and resident set.
 * @ret_self: receives them; has_rss is false if the RSS is unreadable
 */
void
vt_agent_self_read(VtAgentSelf *ret_self)
{
        VtAgentSelf self = {0};
        struct rusage ru;

        if (getrusage(RUSAGE_SELF, &ru) == 0)
                self.cpu_us =
                    (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
                    (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
        self.has_rss = read_rss(&self.rss_bytes);
        *ret_self = self;
}
