/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Temp dirs of the test launchers (guests, libvirtd), owned by their
 * process: each holds owner.pid. A test that aborts on a failed assertion
 * never reaches its teardown; what it spawned dies with it
 * (PR_SET_PDEATHSIG), but its dir stays. The next dir made with the same
 * prefix removes those whose owner is gone. Live owners' dirs are never
 * touched.
 */
#include "vt-test-tmpdir.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#define OWNER_FILE "owner.pid"

/**
 * vt_test_owned_dir_remove() - Remove @path and, if it is a directory, everything under it.
 * @path: what to remove; symlinks are removed, not followed; failures are logged (debug)
 */
void
vt_test_owned_dir_remove(const char *path)
{
        GStatBuf st;

        if (g_lstat(path, &st) < 0)
                return;
        if (S_ISDIR(st.st_mode)) {
                g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
                const char *entry;

                while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
                        g_autofree char *child = g_build_filename(path, entry, NULL);

                        vt_test_owned_dir_remove(child);
                }
                if (g_rmdir(path) < 0)
                        g_debug("cannot remove '%s': %s", path, g_strerror(errno));
        } else if (g_unlink(path) < 0) {
                g_debug("cannot remove '%s': %s", path, g_strerror(errno));
        }
}

/* Removes the dirs named @prefix* whose owner process is gone. */
static void
reap_orphans(const char *prefix)
{
        g_autoptr(GDir) tmp = g_dir_open(g_get_tmp_dir(), 0, NULL);
        const char *entry;

        while (tmp != NULL && (entry = g_dir_read_name(tmp)) != NULL) {
                g_autofree char *dir = NULL;
                g_autofree char *owner_path = NULL;
                g_autofree char *owner = NULL;
                gint64 pid;

                if (!g_str_has_prefix(entry, prefix))
                        continue;
                dir = g_build_filename(g_get_tmp_dir(), entry, NULL);
                owner_path = g_build_filename(dir, OWNER_FILE, NULL);
                if (!g_file_get_contents(owner_path, &owner, NULL, NULL))
                        continue;
                pid = g_ascii_strtoll(owner, NULL, 10);
                if (pid <= 0 || pid > G_MAXINT || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                        continue;
                g_debug("removing '%s', left behind by process %" G_GINT64_FORMAT, dir, pid);
                vt_test_owned_dir_remove(dir);
        }
}

/**
 * vt_test_owned_dir_new() - Make a temp dir owned by this process.
 * @prefix: the dirs' common prefix, e.g. "vt-guest-"
 * @name: (nullable): more of the name after @prefix, e.g. the guest's
 * @error: return location for a GError
 *
 * Reaps the @prefix dirs of processes that are gone first.
 *
 * Return: (transfer full): `$TMPDIR/PREFIXNAME-XXXXXX` with owner.pid in
 *         it, or NULL with @error set
 */
char *
vt_test_owned_dir_new(const char *prefix, const char *name, GError **error)
{
        g_autofree char *template = NULL;
        g_autofree char *dir = NULL;
        g_autofree char *owner_path = NULL;
        g_autofree char *owner = NULL;

        reap_orphans(prefix);
        template = name != NULL ? g_strdup_printf("%s%s-XXXXXX", prefix, name)
                                : g_strdup_printf("%sXXXXXX", prefix);
        dir = g_dir_make_tmp(template, error);
        if (dir == NULL)
                return NULL;
        owner_path = g_build_filename(dir, OWNER_FILE, NULL);
        owner = g_strdup_printf("%d\n", (int)getpid());
        if (!g_file_set_contents(owner_path, owner, -1, error)) {
                vt_test_owned_dir_remove(dir);
                return NULL;
        }
        return g_steal_pointer(&dir);
}
