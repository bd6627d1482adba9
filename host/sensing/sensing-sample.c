/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Samples the host's memory for vmtided: /proc/meminfo, /proc/vmstat and
 * /proc/pressure/memory through the agent's parsers (the same kernel
 * files, the same care with odd kernels), the cgroup that bounds the
 * guests, and a QEMU process's RSS. The conversions to the policies'
 * inputs are pure.
 */
#include "host/sensing/sensing-sample.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent-proc.h"
#include "common/vt-file.h"

/* cgroup v1 reports "no limit" as PAGE_COUNTER_MAX pages: about 2^63 bytes. */
#define CGROUP_V1_UNLIMITED (G_GUINT64_CONSTANT(1) << 62)

/**
 * vt_host_sample_read:
 * @proc_root: where /proc is ("/proc")
 * @cgroup_dir: (nullable): the cgroup directory that bounds the guests,
 *     or %NULL for none
 * @now_us: the monotonic time to stamp the sample with
 * @ret: (out): the sample; written only on success
 * @error: a %G_IO_ERROR: the errno of reading `meminfo` (its path in the
 *     message), %G_IO_ERROR_INVALID_DATA when it has no MemTotal, or the
 *     error of vt_host_read_cgroup()
 *
 * `meminfo` is required; `vmstat` and `pressure/memory` are optional (the
 * sample says whether they were read).
 *
 * Returns: %TRUE on success
 */
gboolean
vt_host_sample_read(const char *proc_root, const char *cgroup_dir, gint64 now_us, VtHostSample *ret,
                    GError **error)
{
        VtAgentSample s;
        VtHostSample sample = {0};
        int r;

        g_return_val_if_fail(proc_root != NULL, FALSE);
        g_return_val_if_fail(ret != NULL, FALSE);
        g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

        r = vt_agent_sample_read(proc_root, &s);
        if (r == -ENODATA) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "%s/meminfo has no MemTotal", proc_root);
                return FALSE;
        }
        if (r < 0) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-r),
                            "Cannot read %s/meminfo: %s", proc_root, g_strerror(-r));
                return FALSE;
        }

        sample.mem_total = s.mem[VT_AGENT_MEM_TOTAL];
        sample.mem_free = s.mem[VT_AGENT_MEM_FREE];
        sample.mem_cache = s.mem[VT_AGENT_MEM_BUFFERS] + s.mem[VT_AGENT_MEM_CACHED];
        if (s.has_mem[VT_AGENT_MEM_AVAILABLE])
                sample.mem_available = s.mem[VT_AGENT_MEM_AVAILABLE];
        else
                sample.mem_available = MIN(sample.mem_free + sample.mem_cache, sample.mem_total);
        sample.swap_total = s.mem[VT_AGENT_MEM_SWAP_TOTAL];
        sample.swap_free = s.mem[VT_AGENT_MEM_SWAP_FREE];

        sample.has_vmstat = s.has_vm[VT_AGENT_VM_PSWPIN] && s.has_vm[VT_AGENT_VM_PSWPOUT];
        if (sample.has_vmstat) {
                sample.pswpin = s.vm[VT_AGENT_VM_PSWPIN];
                sample.pswpout = s.vm[VT_AGENT_VM_PSWPOUT];
        }

        sample.has_psi = s.has_psi_avg[VT_AGENT_PSI_SOME_AVG10];
        sample.psi_some_avg10 = sample.has_psi ? s.psi_avg[VT_AGENT_PSI_SOME_AVG10] : -1.0;
        sample.psi_full_avg10 = sample.has_psi && s.has_psi_avg[VT_AGENT_PSI_FULL_AVG10]
                                    ? s.psi_avg[VT_AGENT_PSI_FULL_AVG10]
                                    : -1.0;
        if (s.has_psi_total[VT_AGENT_PSI_SOME_TOTAL])
                sample.psi_some_total_us = s.psi_total_us[VT_AGENT_PSI_SOME_TOTAL];

        if (cgroup_dir != NULL &&
            !vt_host_read_cgroup(cgroup_dir, &sample.cgroup_limit, &sample.cgroup_current, error))
                return FALSE;

        sample.sampled_us = now_us;
        *ret = sample;
        return TRUE;
}

/*
 * Reads DIR/NAME, at most VT_FILE_SMALL_MAX bytes; on failure a G_IO_ERROR
 * from its errno (NOT_FOUND when it is missing), with the path.
 */
static char *
read_small_file(const char *dir, const char *name, GError **error)
{
        g_autofree char *path = g_build_filename(dir, name, NULL);
        char text[VT_FILE_SMALL_MAX + 1];
        gssize len = vt_file_read(path, text, sizeof(text));

        if (len < 0) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno((gint)-len),
                            "Cannot read %s: %s", path, g_strerror((gint)-len));
                return NULL;
        }
        return g_strndup(text, (gsize)len);
}

/* One unsigned decimal, with blanks around it (a trailing newline). */
static gboolean
parse_number(const char *text, guint64 *ret_value)
{
        g_autofree char *copy = g_strstrip(g_strdup(text));

        return g_ascii_string_to_unsigned(copy, 10, 0, G_MAXUINT64, ret_value, NULL);
}

static gboolean
read_number_file(const char *dir, const char *name, gboolean allow_max, guint64 *ret_value,
                 GError **error)
{
        g_autofree char *text = read_small_file(dir, name, error);
        g_autofree char *stripped = NULL;

        if (text == NULL)
                return FALSE;
        stripped = g_strstrip(g_strdup(text));
        if (allow_max && strcmp(stripped, "max") == 0) {
                *ret_value = 0;
                return TRUE;
        }
        if (!parse_number(stripped, ret_value)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "%s/%s: '%s' is not a number", dir, name, stripped);
                return FALSE;
        }
        return TRUE;
}

/**
 * vt_host_read_cgroup:
 * @cgroup_dir: a cgroup directory: cgroup v2 (memory.max,
 *     memory.current) or, failing that, v1 (memory.limit_in_bytes,
 *     memory.usage_in_bytes)
 * @ret_limit: (out): its memory limit, bytes; 0 when unlimited ("max")
 * @ret_current: (out): its current usage, bytes
 * @error: a %G_IO_ERROR: %G_IO_ERROR_NOT_FOUND when the directory has
 *     neither memory.max nor memory.limit_in_bytes (it does not exist, or
 *     the memory controller is not enabled for it),
 *     %G_IO_ERROR_INVALID_DATA for content that is not a number, the
 *     errno of a failed read otherwise
 *
 * Returns: %TRUE on success; the outputs are written only then
 */
gboolean
vt_host_read_cgroup(const char *cgroup_dir, guint64 *ret_limit, guint64 *ret_current,
                    GError **error)
{
        g_autofree char *v2 = NULL;
        g_autofree char *v1 = NULL;
        guint64 limit, current;

        g_return_val_if_fail(cgroup_dir != NULL, FALSE);
        g_return_val_if_fail(ret_limit != NULL && ret_current != NULL, FALSE);

        v2 = g_build_filename(cgroup_dir, "memory.max", NULL);
        v1 = g_build_filename(cgroup_dir, "memory.limit_in_bytes", NULL);
        if (g_file_test(v2, G_FILE_TEST_EXISTS)) {
                if (!read_number_file(cgroup_dir, "memory.max", TRUE, &limit, error) ||
                    !read_number_file(cgroup_dir, "memory.current", FALSE, &current, error))
                        return FALSE;
        } else if (g_file_test(v1, G_FILE_TEST_EXISTS)) {
                if (!read_number_file(cgroup_dir, "memory.limit_in_bytes", FALSE, &limit, error) ||
                    !read_number_file(cgroup_dir, "memory.usage_in_bytes", FALSE, &current, error))
                        return FALSE;
                if (limit >= CGROUP_V1_UNLIMITED)
                        limit = 0;
        } else {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                            "%s has no memory.max: not a cgroup with the memory controller",
                            cgroup_dir);
                return FALSE;
        }
        *ret_limit = limit;
        *ret_current = current;
        return TRUE;
}

/**
 * vt_host_read_process_rss:
 * @proc_root: where /proc is ("/proc")
 * @pid: the process (a QEMU)
 * @ret_bytes: (out): its resident set, bytes; written only on success
 * @error: a %G_IO_ERROR: %G_IO_ERROR_NOT_FOUND when the process is gone,
 *     %G_IO_ERROR_INVALID_DATA when statm does not parse, the errno of a
 *     failed read otherwise
 *
 * From PROC/PID/statm (resident pages × the page size): cheap enough for
 * every guest on every tick, unlike smaps_rollup. Kernels before 6.2
 * update it only every 64 page faults per thread: informative, not exact.
 *
 * Returns: %TRUE on success
 */
gboolean
vt_host_read_process_rss(const char *proc_root, GPid pid, guint64 *ret_bytes, GError **error)
{
        g_autofree char *dir = NULL;
        g_autofree char *text = NULL;
        g_auto(GStrv) fields = NULL;
        g_autoptr(GError) local_error = NULL;
        guint64 resident;
        long page = sysconf(_SC_PAGESIZE);

        g_return_val_if_fail(proc_root != NULL, FALSE);
        g_return_val_if_fail(pid > 0, FALSE);
        g_return_val_if_fail(ret_bytes != NULL, FALSE);

        dir = g_strdup_printf("%s/%d", proc_root, (int)pid);
        text = read_small_file(dir, "statm", &local_error);
        if (text == NULL) {
                if (g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No process %d in %s",
                                    (int)pid, proc_root);
                else
                        g_propagate_error(error, g_steal_pointer(&local_error));
                return FALSE;
        }
        fields = g_strsplit(text, " ", 3);
        if (fields[0] == NULL || fields[1] == NULL || !parse_number(fields[1], &resident) ||
            page <= 0 || resident > G_MAXUINT64 / (guint64)page) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "%s/statm: cannot parse '%s'", dir, g_strchomp(text));
                return FALSE;
        }
        *ret_bytes = resident * (guint64)page;
        return TRUE;
}

/* Events per second between two counters, 0 when unknown or reset. */
static double
counter_rate(guint64 cur, guint64 prev, gint64 dt_us)
{
        if (dt_us <= 0 || cur < prev)
                return 0.0;
        return (double)(cur - prev) * (double)G_USEC_PER_SEC / (double)dt_us;
}

/**
 * vt_host_sample_to_balloon_host:
 * @cur: the latest sample
 * @prev: (nullable): the previous one, for the swap rates; %NULL on the
 *     first tick
 * @budget_total: the configured budget (`[budget] total`), bytes; 0: none
 * @ret: (out): the balloon policy's view of the host
 *
 * Swap rates are pages a second between @prev and @cur (0 without
 * @prev, without vmstat, or when the counters went backwards). The
 * budget limit is the smaller of @budget_total and the cgroup's limit,
 * ignoring either when it is 0 (none). Pure.
 */
void
vt_host_sample_to_balloon_host(const VtHostSample *cur, const VtHostSample *prev,
                               guint64 budget_total, VtBalloonHost *ret)
{
        VtBalloonHost host = {0};

        g_return_if_fail(cur != NULL);
        g_return_if_fail(ret != NULL);

        host.mem_total = cur->mem_total;
        host.mem_available = cur->mem_available;
        host.psi_some_avg10 = cur->has_psi ? cur->psi_some_avg10 : -1.0;
        host.psi_full_avg10 = cur->has_psi ? cur->psi_full_avg10 : -1.0;
        if (prev != NULL && cur->has_vmstat && prev->has_vmstat) {
                gint64 dt_us = cur->sampled_us - prev->sampled_us;

                host.swap_in_per_s = counter_rate(cur->pswpin, prev->pswpin, dt_us);
                host.swap_out_per_s = counter_rate(cur->pswpout, prev->pswpout, dt_us);
        }
        if (budget_total == 0)
                host.budget_limit = cur->cgroup_limit;
        else if (cur->cgroup_limit == 0)
                host.budget_limit = budget_total;
        else
                host.budget_limit = MIN(budget_total, cur->cgroup_limit);
        *ret = host;
}

/**
 * vt_host_sample_to_ksm_host:
 * @sample: the latest sample
 * @n_cpus: online CPUs (g_get_num_processors())
 * @ret: (out): the KSM tuner's view of the host
 *
 * Without PSI the averages read 0 (no pressure seen). Pure.
 */
void
vt_host_sample_to_ksm_host(const VtHostSample *sample, guint n_cpus, VtKsmHost *ret)
{
        g_return_if_fail(sample != NULL);
        g_return_if_fail(ret != NULL);

        *ret = (VtKsmHost){
            .mem_total = sample->mem_total,
            .mem_available = sample->mem_available,
            .mem_free = sample->mem_free + sample->mem_cache,
            .psi_some_avg10 = sample->has_psi ? sample->psi_some_avg10 : 0.0,
            .psi_full_avg10 =
                sample->has_psi && sample->psi_full_avg10 >= 0.0 ? sample->psi_full_avg10 : 0.0,
            .n_cpus = n_cpus,
        };
}
