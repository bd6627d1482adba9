/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the tests. Tests never sleep to let something happen:
 * they iterate the main loop until the awaited condition holds, and a guard
 * timeout turns a hang into a failure.
 */
#include "tests/vt-test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

static gboolean
util_on_guard(gpointer user_data)
{
        *(gboolean *)user_data = TRUE;
        return G_SOURCE_REMOVE;
}

/**
 * vt_test_run_until:
 * @done: checked after each main loop iteration
 * @data: for @done
 * @guard_us: how long to wait at most
 *
 * Iterates the thread-default main context until @done returns %TRUE.
 *
 * Returns: %TRUE if @done held, %FALSE if the guard expired first
 */
gboolean
vt_test_run_until(VtTestCondition done, gpointer data, gint64 guard_us)
{
        GMainContext *context = g_main_context_ref_thread_default();
        GSource *guard = g_timeout_source_new((guint)(guard_us / 1000));
        gboolean expired = FALSE;
        gboolean ok;

        g_source_set_callback(guard, util_on_guard, &expired, NULL);
        g_source_attach(guard, context);
        while (!(ok = done(data)) && !expired)
                g_main_context_iteration(context, TRUE);
        g_source_destroy(guard);
        g_source_unref(guard);
        g_main_context_unref(context);
        return ok;
}

typedef struct {
        const guint *counter;
        guint above;
} CounterWait;

static gboolean
counter_above(gpointer data)
{
        CounterWait *w = data;

        return *w->counter > w->above;
}

/**
 * vt_test_wait_above:
 * @counter: an event counter that signal handlers increment
 * @above: the value to pass
 * @guard_us: how long to wait at most
 *
 * Iterates the thread-default main context until *@counter > @above.
 *
 * Returns: %TRUE if it passed, %FALSE if the guard expired first
 */
gboolean
vt_test_wait_above(const guint *counter, guint above, gint64 guard_us)
{
        CounterWait w = {counter, above};

        return vt_test_run_until(counter_above, &w, guard_us);
}

/**
 * vt_test_waiter_callback:
 * @source: the source object
 * @result: the result
 * @user_data: a #VtTestWaiter
 */
void
vt_test_waiter_callback(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtTestWaiter *waiter = user_data;

        g_assert_null(waiter->result);
        waiter->result = g_object_ref(result);
}

static gboolean
waiter_done(gpointer data)
{
        return ((VtTestWaiter *)data)->result != NULL;
}

/**
 * vt_test_waiter_wait:
 * @waiter: a waiter whose call was started
 *
 * Waits for the result, failing the test after %VT_TEST_GUARD_US.
 *
 * Returns: (transfer none): the result, owned by @waiter
 */
GAsyncResult *
vt_test_waiter_wait(VtTestWaiter *waiter)
{
        if (!vt_test_run_until(waiter_done, waiter, VT_TEST_GUARD_US))
                g_error("guard timeout: an asynchronous call never completed");
        return waiter->result;
}

/**
 * vt_test_waiter_clear:
 * @waiter: a waiter
 *
 * Drops the result so the waiter can be used again.
 */
void
vt_test_waiter_clear(VtTestWaiter *waiter)
{
        g_clear_object(&waiter->result);
}

/**
 * vt_test_skip_unless:
 * @available: whether what the test needs is there
 * @reason: what is missing, when it is not
 *
 * Skips the current test when @available is %FALSE. Under
 * `VT_TEST_REQUIRE_ALL=1`, which CI sets, a skip is a failure instead.
 *
 * Returns: @available
 */
gboolean
vt_test_skip_unless(gboolean available, const char *reason)
{
        if (available)
                return TRUE;
        if (g_strcmp0(g_getenv("VT_TEST_REQUIRE_ALL"), "1") == 0) {
                g_test_fail_printf("required but unavailable: %s", reason);
                return FALSE;
        }
        g_test_skip(reason);
        return FALSE;
}

/**
 * vt_test_remove_tree:
 * @path: a file or directory a test made
 *
 * Removes @path and everything under it, without following symlinks;
 * fails the test if anything cannot be removed.
 */
void
vt_test_remove_tree(const char *path)
{
        g_autoptr(GDir) dir = NULL;
        const char *name;

        if (!g_file_test(path, G_FILE_TEST_IS_SYMLINK) && g_file_test(path, G_FILE_TEST_IS_DIR)) {
                dir = g_dir_open(path, 0, NULL);
                while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                        g_autofree char *child = g_build_filename(path, name, NULL);

                        vt_test_remove_tree(child);
                }
                g_assert_cmpint(g_rmdir(path), ==, 0);
        } else {
                g_assert_cmpint(g_unlink(path), ==, 0);
        }
}

/**
 * vt_test_default_srcdir:
 *
 * Run by hand (build/tests/test-...), without meson's G_TEST_SRCDIR: the
 * sources are where this file was compiled from, relative to the build
 * directory (the parent of this executable's directory).
 */
void
vt_test_default_srcdir(void)
{
        g_autofree char *exe = NULL;
        g_autofree char *tests = NULL;
        g_autofree char *build = NULL;
        g_autofree char *file_dir = NULL;
        g_autofree char *srcdir = NULL;

        if (g_getenv("G_TEST_SRCDIR") != NULL)
                return;
        exe = g_file_read_link("/proc/self/exe", NULL);
        if (exe == NULL)
                return;
        tests = g_path_get_dirname(exe);
        build = g_path_get_dirname(tests);
        file_dir = g_path_get_dirname(__FILE__);
        srcdir = g_path_is_absolute(file_dir) ? g_strdup(file_dir)
                                              : g_build_filename(build, file_dir, NULL);
        g_setenv("G_TEST_SRCDIR", srcdir, FALSE);
}

/**
 * vt_test_say:
 * @format: printf-style format of one line, without its newline
 * @...: its arguments
 *
 * Tells whoever reads the test's output what happens, as a TAP comment
 * (`# ...`) on stderr: stdout is TAP.
 */
void
vt_test_say(const char *format, ...)
{
        g_autofree char *text = NULL;
        va_list ap;

        va_start(ap, format);
        text = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_printerr("# %s\n", text);
}

/**
 * vt_test_write_file:
 * @path: an existing file, typically a sysfs or procfs knob
 * @text: what to write, in one write()
 *
 * Async-signal-safe: restore code run from a signal guard may call it.
 *
 * Returns: TRUE if all of @text was written; FALSE with errno set
 */
gboolean
vt_test_write_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;
        int saved;

        if (fd < 0)
                return FALSE;
        n = write(fd, text, strlen(text));
        saved = errno;
        close(fd);
        errno = saved;
        return n == (ssize_t)strlen(text);
}

/**
 * vt_test_read_text:
 * @path: a small text file
 *
 * Returns: (transfer full) (nullable): its contents without leading or
 *     trailing white space, or %NULL if it cannot be read
 */
char *
vt_test_read_text(const char *path)
{
        char *text = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return NULL;
        return g_strstrip(text);
}
