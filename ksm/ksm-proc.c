/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-process KSM figures and CPU time from /proc.
 *
 * Theory of operation: the parsers take the text of one file and are pure,
 * so they are tested on strings; the readers only open the file under a
 * proc root (VT_KSM_PROC_ROOT, or a fake tree in tests) and hand its text
 * to a parser.
 *
 * /proc/PID/ksm_stat grew over kernel versions: `ksm_rmap_items` (6.1),
 * `ksm_merging_pages` and `ksm_process_profit` (6.4), `ksm_zero_pages`
 * (6.6), `ksm_merge_any:` and `ksm_mergeable:` (6.14, with a colon). Each
 * known line sets a presence flag and unknown lines are skipped, so a newer
 * kernel's additions do not break the parser. Kernels 5.19 to 6.0 only have
 * /proc/PID/ksm_merging_pages, which is the fallback.
 *
 * In /proc/PID/stat the command name sits between parentheses and may
 * itself contain spaces and parentheses, so the fields after it are found
 * from the LAST ')'. ksmd is the kernel thread (PF_KTHREAD) named `ksmd`;
 * a user process may call itself ksmd too and is not taken for it.
 */
#include "ksm/ksm-proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ksm/ksm-file.h"

static gboolean
proc_parse_u64(const char *text, guint64 *ret_value)
{
        return g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, ret_value, NULL);
}

static gboolean
proc_parse_i64(const char *text, gint64 *ret_value)
{
        return g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, ret_value, NULL);
}

static gboolean
proc_parse_yes_no(const char *text, gboolean *ret_value)
{
        if (g_str_equal(text, "yes")) {
                *ret_value = TRUE;
                return TRUE;
        }
        if (g_str_equal(text, "no")) {
                *ret_value = FALSE;
                return TRUE;
        }
        return FALSE;
}

/**
 * vt_ksm_proc_stat_parse:
 * @text: the content of /proc/PID/ksm_stat
 * @ret_stat: (out caller-allocates): the figures, written only on success
 * @error: return location for a #GError
 *
 * Parses ksm_stat of any kernel version. Unknown lines are ignored and
 * known ones that are missing leave their has_ flag unset; an empty text
 * (a kernel thread has no mm) gives a stat with no field present.
 *
 * Returns: %FALSE with %VT_KSM_ERROR_INVALID if a known line has a
 *     malformed value
 */
gboolean
vt_ksm_proc_stat_parse(const char *text, VtKsmProcStat *ret_stat, GError **error)
{
        g_auto(GStrv) lines = NULL;
        VtKsmProcStat stat = {0};

        g_return_val_if_fail(text != NULL, FALSE);
        g_return_val_if_fail(ret_stat != NULL, FALSE);

        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++) {
                char *line = g_strstrip(lines[i]);
                char *value;
                gsize key_len;
                gboolean ok = TRUE;

                key_len = strcspn(line, " \t");
                if (key_len == 0)
                        continue;
                value = line + key_len;
                if (*value != '\0')
                        *value++ = '\0';
                value = g_strstrip(value);
                if (key_len > 1 && line[key_len - 1] == ':')
                        line[key_len - 1] = '\0';

                if (g_str_equal(line, "ksm_rmap_items")) {
                        ok = proc_parse_u64(value, &stat.rmap_items);
                        stat.has_rmap_items = TRUE;
                } else if (g_str_equal(line, "ksm_zero_pages")) {
                        ok = proc_parse_u64(value, &stat.zero_pages);
                        stat.has_zero_pages = TRUE;
                } else if (g_str_equal(line, "ksm_merging_pages")) {
                        ok = proc_parse_u64(value, &stat.merging_pages);
                        stat.has_merging_pages = TRUE;
                } else if (g_str_equal(line, "ksm_process_profit")) {
                        ok = proc_parse_i64(value, &stat.process_profit);
                        stat.has_process_profit = TRUE;
                } else if (g_str_equal(line, "ksm_merge_any")) {
                        ok = proc_parse_yes_no(value, &stat.merge_any);
                        stat.has_merge_any = TRUE;
                } else if (g_str_equal(line, "ksm_mergeable")) {
                        ok = proc_parse_yes_no(value, &stat.mergeable);
                        stat.has_mergeable = TRUE;
                }
                if (!ok) {
                        g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                                    "ksm_stat: '%s' has an invalid value '%s'", line, value);
                        return FALSE;
                }
        }
        *ret_stat = stat;
        return TRUE;
}

/**
 * vt_ksm_proc_merging_pages_parse:
 * @text: the content of /proc/PID/ksm_merging_pages (kernel 5.19+)
 * @ret_stat: (inout): its @merging_pages is set, the rest is kept
 * @error: return location for a #GError
 *
 * Returns: %FALSE with %VT_KSM_ERROR_INVALID unless @text is one count
 */
gboolean
vt_ksm_proc_merging_pages_parse(const char *text, VtKsmProcStat *ret_stat, GError **error)
{
        g_autofree char *copy = NULL;
        guint64 value;

        g_return_val_if_fail(text != NULL, FALSE);
        g_return_val_if_fail(ret_stat != NULL, FALSE);

        copy = g_strstrip(g_strdup(text));
        if (!proc_parse_u64(copy, &value)) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                            "ksm_merging_pages: invalid value '%s'", copy);
                return FALSE;
        }
        ret_stat->merging_pages = value;
        ret_stat->has_merging_pages = TRUE;
        return TRUE;
}

/* Field numbers of /proc/PID/stat (proc(5)), counted from 1. */
enum {
        STAT_FIELD_STATE = 3,
        STAT_FIELD_PPID = 4,
        STAT_FIELD_FLAGS = 9,
        STAT_FIELD_UTIME = 14,
        STAT_FIELD_STIME = 15,
};

/**
 * vt_ksm_proc_pid_stat_parse:
 * @text: the content of /proc/PID/stat
 * @ret_stat: (out caller-allocates): its fields, written only on success
 * @error: return location for a #GError
 *
 * The command name is whatever lies between the first '(' and the LAST
 * ')', so names with spaces or parentheses parse right.
 *
 * Returns: %FALSE with %VT_KSM_ERROR_INVALID if the line is truncated or
 *     a field vmtide uses is not a number
 */
gboolean
vt_ksm_proc_pid_stat_parse(const char *text, VtKsmPidStat *ret_stat, GError **error)
{
        VtKsmPidStat stat = {0};
        g_autofree char *pid_text = NULL;
        g_auto(GStrv) fields = NULL;
        const char *open_paren;
        const char *close_paren;
        guint64 pid = 0;
        guint64 ppid = 0;
        gsize comm_len;
        guint n = 0;

        g_return_val_if_fail(text != NULL, FALSE);
        g_return_val_if_fail(ret_stat != NULL, FALSE);

        open_paren = strchr(text, '(');
        close_paren = strrchr(text, ')');
        if (open_paren == NULL || close_paren == NULL || close_paren < open_paren) {
                g_set_error_literal(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                                    "stat: no command name in parentheses");
                return FALSE;
        }
        pid_text = g_strstrip(g_strndup(text, (gsize)(open_paren - text)));
        if (!proc_parse_u64(pid_text, &pid) || pid == 0 || pid > G_MAXINT32) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID, "stat: invalid pid '%s'",
                            pid_text);
                return FALSE;
        }
        comm_len = MIN((gsize)(close_paren - open_paren - 1), (gsize)VT_KSM_PROC_COMM_MAX);
        memcpy(stat.comm, open_paren + 1, comm_len);
        stat.comm[comm_len] = '\0';
        stat.pid = (pid_t)pid;

        /* fields[0] is field 3 (state). */
        fields = g_strsplit_set(close_paren + 1, " \n", -1);
        for (guint i = 0; fields[i] != NULL; i++) {
                const char *field = fields[i];
                guint number;
                gboolean ok = TRUE;

                if (*field == '\0')
                        continue;
                number = STAT_FIELD_STATE + n++;
                switch (number) {
                case STAT_FIELD_STATE:
                        stat.state = field[0];
                        break;
                case STAT_FIELD_PPID:
                        ok = proc_parse_u64(field, &ppid) && ppid <= G_MAXINT32;
                        stat.ppid = (pid_t)ppid;
                        break;
                case STAT_FIELD_FLAGS:
                        ok = proc_parse_u64(field, &stat.flags);
                        break;
                case STAT_FIELD_UTIME:
                        ok = proc_parse_u64(field, &stat.utime_ticks);
                        break;
                case STAT_FIELD_STIME:
                        ok = proc_parse_u64(field, &stat.stime_ticks);
                        break;
                default:
                        break;
                }
                if (!ok) {
                        g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                                    "stat of %" G_GUINT64_FORMAT ": field %u is not a number: '%s'",
                                    pid, number, field);
                        return FALSE;
                }
                if (number == STAT_FIELD_STIME)
                        break;
        }
        if (STAT_FIELD_STATE + n <= STAT_FIELD_STIME) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                            "stat of %" G_GUINT64_FORMAT ": truncated after %u fields", pid,
                            STAT_FIELD_STATE - 1 + n);
                return FALSE;
        }
        *ret_stat = stat;
        return TRUE;
}

/**
 * vt_ksm_proc_ticks_to_us:
 * @ticks: a time in clock ticks, as /proc/PID/stat counts
 * @ticks_per_s: sysconf(_SC_CLK_TCK)
 *
 * Returns: @ticks in microseconds, clamped to %G_MAXINT64; -1 if
 *     @ticks_per_s is not positive
 */
gint64
vt_ksm_proc_ticks_to_us(guint64 ticks, glong ticks_per_s)
{
        guint64 whole_s;
        guint64 rest;

        if (ticks_per_s <= 0)
                return -1;
        whole_s = ticks / (guint64)ticks_per_s;
        rest = ticks % (guint64)ticks_per_s;
        if (whole_s > (guint64)(G_MAXINT64 / G_USEC_PER_SEC) - 1)
                return G_MAXINT64;
        /* rest < ticks_per_s: in double, rest * 10^6 cannot overflow. */
        return (gint64)(whole_s * G_USEC_PER_SEC) +
               (gint64)((double)rest * G_USEC_PER_SEC / (double)ticks_per_s);
}

/**
 * vt_ksm_proc_pid_stat_is_ksmd:
 * @stat: a parsed /proc/PID/stat
 *
 * Returns: whether it is the kernel's ksmd thread (a kernel thread named
 *     `ksmd`; a user process of that name is not)
 */
gboolean
vt_ksm_proc_pid_stat_is_ksmd(const VtKsmPidStat *stat)
{
        g_return_val_if_fail(stat != NULL, FALSE);
        return g_str_equal(stat->comm, "ksmd") && (stat->flags & VT_KSM_PROC_PF_KTHREAD) != 0;
}

static const char *
proc_root_or_default(const char *proc_root)
{
        return proc_root != NULL ? proc_root : VT_KSM_PROC_ROOT;
}

/* Converts the -errno of reading @path into a GError. */
static void
proc_set_read_error(GError **error, const char *path, int err)
{
        if (err == -ENOENT || err == -ESRCH)
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_FOUND, "cannot read %s: %s", path,
                            g_strerror(-err));
        else
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_FAILED, "cannot read %s: %s", path,
                            g_strerror(-err));
}

/**
 * vt_ksm_proc_read_stat:
 * @proc_root: (nullable): the proc mount, %NULL for /proc
 * @pid: a process
 * @ret_stat: (out caller-allocates): its KSM figures, written only on success
 * @error: return location for a #GError
 *
 * Reads /proc/PID/ksm_stat, and /proc/PID/ksm_merging_pages where
 * ksm_stat is missing or lacks that line (kernels 5.19 to 6.3).
 *
 * Returns: %FALSE with %VT_KSM_ERROR_NOT_FOUND if the process is gone,
 *     %VT_KSM_ERROR_NOT_SUPPORTED if the kernel reports neither file
 *     (before 5.19), or another code if a file does not read or parse
 */
gboolean
vt_ksm_proc_read_stat(const char *proc_root, pid_t pid, VtKsmProcStat *ret_stat, GError **error)
{
        g_autofree char *dir = NULL;
        g_autofree char *stat_path = NULL;
        g_autofree char *merging_path = NULL;
        g_autofree char *text = NULL;
        VtKsmProcStat stat = {0};
        gboolean have_stat = FALSE;
        int r;

        g_return_val_if_fail(pid > 0, FALSE);
        g_return_val_if_fail(ret_stat != NULL, FALSE);

        dir = g_strdup_printf("%s/%d", proc_root_or_default(proc_root), (int)pid);
        stat_path = g_build_filename(dir, "ksm_stat", NULL);
        r = vt_ksm_file_read(stat_path, &text);
        if (r == 0) {
                if (!vt_ksm_proc_stat_parse(text, &stat, error)) {
                        g_prefix_error(error, "%s: ", stat_path);
                        return FALSE;
                }
                have_stat = TRUE;
        } else if (r != -ENOENT) {
                proc_set_read_error(error, stat_path, r);
                return FALSE;
        }

        if (!stat.has_merging_pages) {
                g_clear_pointer(&text, g_free);
                merging_path = g_build_filename(dir, "ksm_merging_pages", NULL);
                r = vt_ksm_file_read(merging_path, &text);
                if (r == 0) {
                        if (!vt_ksm_proc_merging_pages_parse(text, &stat, error)) {
                                g_prefix_error(error, "%s: ", merging_path);
                                return FALSE;
                        }
                } else if (r != -ENOENT) {
                        proc_set_read_error(error, merging_path, r);
                        return FALSE;
                } else if (!have_stat) {
                        if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
                                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_FOUND,
                                            "no process %d in %s", (int)pid,
                                            proc_root_or_default(proc_root));
                        else
                                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED,
                                            "this kernel reports no KSM figures per process "
                                            "(%s/ksm_stat, ksm_merging_pages: Linux 5.19+)",
                                            dir);
                        return FALSE;
                }
        }
        *ret_stat = stat;
        return TRUE;
}

/**
 * vt_ksm_proc_read_pid_stat:
 * @proc_root: (nullable): the proc mount, %NULL for /proc
 * @pid: a process
 * @ret_stat: (out caller-allocates): its fields, written only on success
 * @error: return location for a #GError
 *
 * Returns: %FALSE with %VT_KSM_ERROR_NOT_FOUND if the process is gone, or
 *     %VT_KSM_ERROR_INVALID if the file does not parse or names another pid
 */
gboolean
vt_ksm_proc_read_pid_stat(const char *proc_root, pid_t pid, VtKsmPidStat *ret_stat, GError **error)
{
        g_autofree char *path = NULL;
        g_autofree char *text = NULL;
        VtKsmPidStat stat;
        int r;

        g_return_val_if_fail(pid > 0, FALSE);
        g_return_val_if_fail(ret_stat != NULL, FALSE);

        path = g_strdup_printf("%s/%d/stat", proc_root_or_default(proc_root), (int)pid);
        r = vt_ksm_file_read(path, &text);
        if (r < 0) {
                proc_set_read_error(error, path, r);
                return FALSE;
        }
        if (!vt_ksm_proc_pid_stat_parse(text, &stat, error)) {
                g_prefix_error(error, "%s: ", path);
                return FALSE;
        }
        if (stat.pid != pid) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID, "%s: is of pid %d", path,
                            (int)stat.pid);
                return FALSE;
        }
        *ret_stat = stat;
        return TRUE;
}

/**
 * vt_ksm_proc_read_cpu_us:
 * @proc_root: (nullable): the proc mount, %NULL for /proc
 * @pid: a process: ksmd, a QEMU process
 * @ret_cpu_us: (out): its user + system CPU time so far, microseconds
 * @error: return location for a #GError
 *
 * Returns: %FALSE as vt_ksm_proc_read_pid_stat() does
 */
gboolean
vt_ksm_proc_read_cpu_us(const char *proc_root, pid_t pid, gint64 *ret_cpu_us, GError **error)
{
        VtKsmPidStat stat;
        guint64 ticks;
        glong ticks_per_s;

        g_return_val_if_fail(ret_cpu_us != NULL, FALSE);

        if (!vt_ksm_proc_read_pid_stat(proc_root, pid, &stat, error))
                return FALSE;
        if (!g_uint64_checked_add(&ticks, stat.utime_ticks, stat.stime_ticks)) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                            "stat of %d: utime + stime overflows", (int)pid);
                return FALSE;
        }
        /* POSIX guarantees a positive value; 100 on every Linux ABI vmtide runs on. */
        ticks_per_s = sysconf(_SC_CLK_TCK);
        if (ticks_per_s <= 0)
                ticks_per_s = 100;
        *ret_cpu_us = vt_ksm_proc_ticks_to_us(ticks, ticks_per_s);
        return TRUE;
}

static gboolean
proc_is_pid_name(const char *name)
{
        if (*name == '\0')
                return FALSE;
        for (const char *p = name; *p != '\0'; p++) {
                if (!g_ascii_isdigit(*p))
                        return FALSE;
        }
        return TRUE;
}

/**
 * vt_ksm_proc_find_ksmd:
 * @proc_root: (nullable): the proc mount, %NULL for /proc
 * @ret_pid: (out): ksmd's pid
 * @error: return location for a #GError
 *
 * Scans PROC_ROOT/<pid>/stat for the kernel thread named `ksmd`. Processes
 * that vanish or do not parse during the scan are skipped. Only reads.
 *
 * Returns: %FALSE with %VT_KSM_ERROR_NOT_FOUND if there is none (no KSM,
 *     or a pid namespace that hides kernel threads), %VT_KSM_ERROR_FAILED
 *     if @proc_root cannot be listed
 */
gboolean
vt_ksm_proc_find_ksmd(const char *proc_root, pid_t *ret_pid, GError **error)
{
        const char *root = proc_root_or_default(proc_root);
        g_autoptr(GDir) dir = NULL;
        g_autoptr(GError) local_error = NULL;
        const char *name;

        g_return_val_if_fail(ret_pid != NULL, FALSE);

        dir = g_dir_open(root, 0, &local_error);
        if (dir == NULL) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_FAILED, "cannot list %s: %s", root,
                            local_error->message);
                return FALSE;
        }
        while ((name = g_dir_read_name(dir)) != NULL) {
                VtKsmPidStat stat;
                guint64 pid;

                if (!proc_is_pid_name(name) || !proc_parse_u64(name, &pid) || pid == 0 ||
                    pid > G_MAXINT32)
                        continue;
                if (!vt_ksm_proc_read_pid_stat(root, (pid_t)pid, &stat, NULL))
                        continue;
                if (vt_ksm_proc_pid_stat_is_ksmd(&stat)) {
                        *ret_pid = stat.pid;
                        return TRUE;
                }
        }
        g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_FOUND, "no ksmd kernel thread in %s",
                    root);
        return FALSE;
}
