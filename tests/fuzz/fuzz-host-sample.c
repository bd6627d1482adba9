/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtided's host sampler (host/sensing/sensing-sample.h) on a hostile
 * /proc tree and cgroup, through real files in a scratch directory, as
 * the sampler reads them. The input is cut at NUL bytes into meminfo,
 * vmstat, pressure/memory, PID/statm, and the cgroup's limit and usage
 * (v2 names, or v1 when the input's length is odd); a missing part is
 * a missing file. A sample that reads is converted to the policies'
 * inputs, which must hold what the sample promises.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/sensing/sensing-sample.h"
#include "tests/fuzz/fuzz-common.h"

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input: file contents separated by NUL bytes
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const v2[] = {"proc/meminfo",         "proc/vmstat",
                                         "proc/pressure/memory", "proc/4242/statm",
                                         "cgroup/memory.max",    "cgroup/memory.current"};
        static const char *const v1[] = {"proc/meminfo",
                                         "proc/vmstat",
                                         "proc/pressure/memory",
                                         "proc/4242/statm",
                                         "cgroup/memory.limit_in_bytes",
                                         "cgroup/memory.usage_in_bytes"};
        const char *const *names = (size & 1) ? v1 : v2;
        const char *dir = vt_fuzz_get_dir();
        g_autofree char *proc = g_build_filename(dir, "proc", NULL);
        g_autofree char *cgroup = g_build_filename(dir, "cgroup", NULL);
        const uint8_t *part = data;
        size_t left = size;
        VtHostSample sample;
        VtHostSample previous = {0};
        VtBalloonHost balloon_host;
        VtKsmHost ksm_host;
        guint64 limit;
        guint64 current;
        guint64 rss;

        for (guint i = 0; i < G_N_ELEMENTS(v2); i++) {
                g_autofree char *old_v1 = g_build_filename(dir, v1[i], NULL);
                g_autofree char *old_v2 = g_build_filename(dir, v2[i], NULL);

                unlink(old_v1);
                unlink(old_v2);
        }
        for (guint i = 0; i < G_N_ELEMENTS(v2) && part != NULL; i++) {
                const uint8_t *nul = memchr(part, '\0', left);
                size_t len = nul != NULL ? (size_t)(nul - part) : left;

                vt_fuzz_write_file(dir, names[i], part, len);
                part = nul != NULL ? nul + 1 : NULL;
                left = nul != NULL ? left - len - 1 : 0;
        }

        (void)vt_host_read_cgroup(cgroup, &limit, &current, NULL);
        (void)vt_host_read_process_rss(proc, 4242, &rss, NULL);
        if (!vt_host_sample_read(proc, NULL, 1000000, &sample, NULL))
                return 0;
        vt_host_sample_to_balloon_host(&sample, NULL, 0, &balloon_host);
        previous = sample;
        previous.sampled_us -= 500000;
        previous.pswpin /= 2;
        vt_host_sample_to_balloon_host(&sample, &previous, G_GUINT64_CONSTANT(8) << 30,
                                       &balloon_host);
        if (!(balloon_host.swap_in_per_s >= 0.0) || !(balloon_host.swap_out_per_s >= 0.0))
                abort();
        vt_host_sample_to_ksm_host(&sample, 4, &ksm_host);
        (void)vt_host_sample_read(proc, cgroup, 2000000, &sample, NULL);
        return 0;
}
