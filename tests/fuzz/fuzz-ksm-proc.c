/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The per-process KSM parsers (ksm/ksm-proc.h) on hostile files: every
 * process on the host writes its own comm into /proc/PID/stat, and a
 * newer or odder kernel may print ksm_stat differently. The input goes
 * to all three parsers: /proc/PID/ksm_stat, /proc/PID/ksm_merging_pages
 * and /proc/PID/stat. What parses must have its comm terminated within
 * its bound.
 */
#include <stdlib.h>
#include <string.h>

#include "ksm/ksm-proc.h"
#include "tests/fuzz/fuzz-common.h"

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input: the file's content
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autofree char *text = vt_fuzz_strndup(data, size);
        VtKsmProcStat stat = {0};
        VtKsmPidStat pid_stat = {0};
        g_autoptr(GError) error = NULL;

        if (!vt_ksm_proc_stat_parse(text, &stat, &error) && error == NULL)
                abort();
        g_clear_error(&error);
        if (!vt_ksm_proc_merging_pages_parse(text, &stat, &error) && error == NULL)
                abort();
        g_clear_error(&error);
        if (vt_ksm_proc_pid_stat_parse(text, &pid_stat, &error)) {
                if (memchr(pid_stat.comm, '\0', sizeof(pid_stat.comm)) == NULL)
                        abort();
                (void)vt_ksm_proc_pid_stat_is_ksmd(&pid_stat);
                (void)vt_ksm_proc_ticks_to_us(pid_stat.utime_ticks + pid_stat.stime_ticks, 100);
        } else if (error == NULL) {
                abort();
        }
        return 0;
}
