/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-process KSM accounting and CPU time from /proc; parsers are pure. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* For the VT_KSM_ERROR domain, shared with the sysfs driver. */
#include "ksm/ksm-sysfs.h"

G_BEGIN_DECLS

/* The longest comm the kernel prints in /proc/PID/stat (kernel threads: 64). */
#define VT_KSM_PROC_COMM_MAX 64

/**
 * VtKsmProcStat:
 * @rmap_items: `ksm_rmap_items`: pages of the process KSM tracks (6.1+)
 * @has_rmap_items: the line was there
 * @zero_pages: `ksm_zero_pages`: its pages merged with the zero page (6.6+)
 * @has_zero_pages: the line was there
 * @merging_pages: `ksm_merging_pages`: its pages merged into KSM pages
 *     (the ksm_stat line since 6.4; /proc/PID/ksm_merging_pages since 5.19)
 * @has_merging_pages: either source had it
 * @process_profit: `ksm_process_profit`: bytes saved net of KSM's metadata
 *     for this process, may be negative (6.4+)
 * @has_process_profit: the line was there
 * @merge_any: `ksm_merge_any`: the whole process was opted in with
 *     prctl(PR_SET_MEMORY_MERGE) (6.14+)
 * @has_merge_any: the line was there
 * @mergeable: `ksm_mergeable`: some of its memory is mergeable (6.14+)
 * @has_mergeable: the line was there
 *
 * One process's KSM figures. Kernels add lines over time, so every field
 * has a presence flag; absent fields are 0/%FALSE.
 */
typedef struct {
        guint64 rmap_items;
        gboolean has_rmap_items;
        guint64 zero_pages;
        gboolean has_zero_pages;
        guint64 merging_pages;
        gboolean has_merging_pages;
        gint64 process_profit;
        gboolean has_process_profit;
        gboolean merge_any;
        gboolean has_merge_any;
        gboolean mergeable;
        gboolean has_mergeable;
} VtKsmProcStat;

/**
 * VtKsmPidStat:
 * @pid: field 1
 * @comm: field 2 without its parentheses (truncated to
 *     %VT_KSM_PROC_COMM_MAX bytes)
 * @state: field 3, e.g. `S`
 * @ppid: field 4
 * @flags: field 9, the task's PF_* flags (PF_KTHREAD marks kernel threads)
 * @utime_ticks: field 14, user time in clock ticks
 * @stime_ticks: field 15, system time in clock ticks
 *
 * The fields of /proc/PID/stat that vmtide uses.
 */
typedef struct {
        pid_t pid;
        char comm[VT_KSM_PROC_COMM_MAX + 1];
        char state;
        pid_t ppid;
        guint64 flags;
        guint64 utime_ticks;
        guint64 stime_ticks;
} VtKsmPidStat;

/* PF_KTHREAD from include/linux/sched.h. */
#define VT_KSM_PROC_PF_KTHREAD 0x00200000

gboolean vt_ksm_proc_stat_parse(const char *text, VtKsmProcStat *ret_stat, GError **error);
gboolean vt_ksm_proc_merging_pages_parse(const char *text, VtKsmProcStat *ret_stat, GError **error);
gboolean vt_ksm_proc_pid_stat_parse(const char *text, VtKsmPidStat *ret_stat, GError **error);
gint64 vt_ksm_proc_ticks_to_us(guint64 ticks, glong ticks_per_s);
gboolean vt_ksm_proc_pid_stat_is_ksmd(const VtKsmPidStat *stat);

gboolean vt_ksm_proc_read_stat(const char *proc_root, pid_t pid, VtKsmProcStat *ret_stat,
                               GError **error);
gboolean vt_ksm_proc_read_pid_stat(const char *proc_root, pid_t pid, VtKsmPidStat *ret_stat,
                                   GError **error);
gboolean vt_ksm_proc_read_cpu_us(const char *proc_root, pid_t pid, gint64 *ret_cpu_us,
                                 GError **error);
gboolean vt_ksm_proc_find_ksmd(const char *proc_root, pid_t *ret_pid, GError **error);

G_END_DECLS
