/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QEMU process of a local libvirt domain, for KSM's per-process
 * accounting (`/proc/PID/ksm_stat`) and the guest's RSS. libvirt's API
 * does not give it.
 *
 * Theory of operation: libvirt's QEMU driver writes NAME.pid in its run
 * directory (`/run/libvirt/qemu` for qemu:///system). That pid is trusted
 * only if the process's command line carries the domain's `-uuid`, as
 * every QEMU libvirt starts does; otherwise (no pid file: another libvirt
 * layout) /proc is searched for the QEMU with that `-uuid` whose binary
 * is a qemu-* run by root or libvirt's QEMU user (anybody could start a
 * process with that argument). A remote URI has no local process: 0.
 */
#include "host/libvirt/libvirt-pid.h"

#include <glib/gstdio.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Longest command line read, bytes (QEMU's run to a few KiB). */
#define CMDLINE_MAX (256 * 1024)

/**
 * vt_libvirt_cmdline_has_uuid:
 * @cmdline: a `/proc/PID/cmdline`: arguments each ending in NUL
 * @length: its length in bytes
 * @uuid: a domain's UUID string
 *
 * Returns: %TRUE if an argument `-uuid` is followed by @uuid (case aside)
 */
gboolean
vt_libvirt_cmdline_has_uuid(const char *cmdline, gsize length, const char *uuid)
{
        gsize pos = 0;
        gboolean after_flag = FALSE;

        g_return_val_if_fail(uuid != NULL, FALSE);

        while (cmdline != NULL && pos < length) {
                const char *arg = cmdline + pos;
                gsize arg_len = strnlen(arg, length - pos);

                if (after_flag && arg_len == strlen(uuid) && g_ascii_strcasecmp(arg, uuid) == 0 &&
                    pos + arg_len < length)
                        return TRUE;
                after_flag = arg_len == 5 && memcmp(arg, "-uuid", 5) == 0;
                pos += arg_len + 1;
        }
        return FALSE;
}

/**
 * vt_libvirt_pid_dir_for_uri:
 * @uri: a libvirt connection URI
 *
 * Returns: (transfer full) (nullable): where libvirt's QEMU driver keeps
 *     pid files for @uri, or %NULL when its processes are not local
 */
char *
vt_libvirt_pid_dir_for_uri(const char *uri)
{
        g_return_val_if_fail(uri != NULL, NULL);

        if (g_str_equal(uri, "qemu:///system") || g_str_has_prefix(uri, "qemu:///system?") ||
            g_str_equal(uri, "qemu+unix:///system") ||
            g_str_has_prefix(uri, "qemu+unix:///system?"))
                return g_strdup("/run/libvirt/qemu");
        if (g_str_equal(uri, "qemu:///session") || g_str_has_prefix(uri, "qemu:///session?"))
                return g_build_filename(g_get_user_runtime_dir(), "libvirt", "qemu", "run", NULL);
        return NULL;
}

static gboolean
pid_has_uuid(GPid pid, const char *uuid)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
        g_autofree char *cmdline = NULL;
        gsize length = 0;

        if (!g_file_get_contents(path, &cmdline, &length, NULL) || length > CMDLINE_MAX)
                return FALSE;
        return vt_libvirt_cmdline_has_uuid(cmdline, length, uuid);
}

static GPid
parse_pid(const char *text)
{
        char *end = NULL;
        gint64 value;

        value = g_ascii_strtoll(text, &end, 10);
        if (end == text || value <= 1 || value > G_MAXINT)
                return 0;
        while (g_ascii_isspace(*end))
                end++;
        return *end == '\0' ? (GPid)value : 0;
}

/* A QEMU run by libvirt: its binary is a qemu-*, and it runs as root or
 * as libvirt's QEMU user, not as anybody who can put a -uuid on a
 * command line. */
static gboolean
pid_is_libvirt_qemu(GPid pid)
{
        g_autofree char *dir = g_strdup_printf("/proc/%d", (int)pid);
        g_autofree char *exe_link = g_build_filename(dir, "exe", NULL);
        g_autofree char *exe = g_file_read_link(exe_link, NULL);
        g_autofree char *base = exe != NULL ? g_path_get_basename(exe) : NULL;
        static const char *const users[] = {"libvirt-qemu", "qemu"};
        struct stat st;

        if (base == NULL || !g_str_has_prefix(base, "qemu") || g_stat(dir, &st) < 0)
                return FALSE;
        if (st.st_uid == 0)
                return TRUE;
        for (gsize i = 0; i < G_N_ELEMENTS(users); i++) {
                const struct passwd *pw = getpwnam(users[i]);

                if (pw != NULL && pw->pw_uid == st.st_uid)
                        return TRUE;
        }
        return FALSE;
}

static GPid
search_proc(const char *uuid)
{
        g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
        const char *entry;

        if (dir == NULL)
                return 0;
        while ((entry = g_dir_read_name(dir)) != NULL) {
                GPid pid = parse_pid(entry);

                if (pid != 0 && pid_has_uuid(pid, uuid) && pid_is_libvirt_qemu(pid))
                        return pid;
        }
        return 0;
}

/**
 * vt_libvirt_find_qemu_pid:
 * @pid_dir: (nullable): libvirt's pid file directory
 *     (vt_libvirt_pid_dir_for_uri()); %NULL: not local
 * @name: the domain's name
 * @uuid: the domain's UUID string
 *
 * Blocking (reads /proc): call it off the main loop.
 *
 * Returns: the pid of the domain's QEMU, or 0 when not found
 */
GPid
vt_libvirt_find_qemu_pid(const char *pid_dir, const char *name, const char *uuid)
{
        g_autofree char *file = NULL;
        g_autofree char *path = NULL;
        g_autofree char *text = NULL;
        GPid pid = 0;

        g_return_val_if_fail(name != NULL && uuid != NULL, 0);

        if (pid_dir == NULL)
                return 0;
        file = g_strconcat(name, ".pid", NULL);
        path = g_build_filename(pid_dir, file, NULL);
        if (strchr(name, '/') == NULL && g_file_get_contents(path, &text, NULL, NULL))
                pid = parse_pid(text);
        if (pid != 0 && pid_has_uuid(pid, uuid))
                return pid;
        return search_proc(uuid);
}
