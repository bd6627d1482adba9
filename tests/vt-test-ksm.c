/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* KSM inputs read from running test guests, for the KSM test and benchmark. */
#include "tests/vt-test-ksm.h"

#include <stdio.h>
#include <unistd.h>

#include "ksm/ksm-proc.h"

/**
 * vt_test_ksm_guest_merging:
 * @guest: a running guest
 *
 * Returns: its QEMU process's merged pages, or -1 if the kernel does not say
 */
gint64
vt_test_ksm_guest_merging(VtTestGuest *guest)
{
        VtKsmProcStat stat = {0};

        if (!vt_ksm_proc_read_stat("/proc", vt_test_guest_get_pid(guest), &stat, NULL) ||
            !stat.has_merging_pages)
                return -1;
        return (gint64)stat.merging_pages;
}

static guint64
read_rss(GPid pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/statm", pid);
        g_autofree char *text = NULL;
        guint64 size = 0, resident = 0;

        if (!g_file_get_contents(path, &text, NULL, NULL) ||
            sscanf(text, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &size, &resident) != 2)
                return 0;
        return resident * (guint64)sysconf(_SC_PAGESIZE);
}

/**
 * vt_test_ksm_guest_read:
 * @guest: a running guest
 * @mergeable_bytes: its RAM, all of which QEMU marks mergeable
 * @ret_guest: (out caller-allocates): the tuner's view of it
 */
void
vt_test_ksm_guest_read(VtTestGuest *guest, guint64 mergeable_bytes, VtKsmGuest *ret_guest)
{
        *ret_guest = (VtKsmGuest){.mergeable_bytes = mergeable_bytes,
                                  .merging_pages = vt_test_ksm_guest_merging(guest),
                                  .rss_bytes = read_rss(vt_test_guest_get_pid(guest))};
}
