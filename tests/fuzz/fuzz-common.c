/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every fuzz target shares: a log writer that drops what the code
 * under test logs about bad input (debug lines and warnings are its job)
 * but aborts on a critical, so that a g_return_if_fail() reached from
 * input counts as a crash; and, for the targets that must go through
 * files (sysfs, /proc trees, cgroups), a scratch directory on tmpfs that
 * is removed at exit.
 */
#include "tests/fuzz/fuzz-common.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qmp/qmp-framer.h"

static char *fuzz_dir;

static GLogWriterOutput
fuzz_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
        if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
                g_log_writer_standard_streams(level, fields, n_fields, user_data);
                abort();
        }
        return G_LOG_WRITER_HANDLED;
}

/* Removes the scratch directory, one level of subdirectories deep. */
static void
fuzz_remove_dir(const char *path, int depth)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                g_autofree char *child = g_build_filename(path, name, NULL);

                if (depth > 0 && g_file_test(child, G_FILE_TEST_IS_DIR))
                        fuzz_remove_dir(child, depth - 1);
                else
                        g_unlink(child);
        }
        g_rmdir(path);
}

static void
fuzz_cleanup(void)
{
        if (fuzz_dir != NULL)
                fuzz_remove_dir(fuzz_dir, 2);
        g_clear_pointer(&fuzz_dir, g_free);
}

/**
 * LLVMFuzzerInitialize:
 * @argc: libFuzzer's argc
 * @argv: libFuzzer's argv
 *
 * Called once before the first input: installs the log writer.
 *
 * Returns: 0
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        g_log_set_writer_func(fuzz_log_writer, NULL, NULL);
        return 0;
}

/**
 * vt_fuzz_get_dir:
 *
 * A private scratch directory, on /dev/shm when there is one; made on the
 * first call, removed at exit. A failure to make it aborts: the target
 * cannot run without it.
 *
 * Returns: (transfer none): its path
 */
const char *
vt_fuzz_get_dir(void)
{
        if (fuzz_dir == NULL) {
                const char *base =
                    g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && access("/dev/shm", W_OK) == 0
                        ? "/dev/shm"
                        : g_get_tmp_dir();
                g_autofree char *path = g_build_filename(base, "vt-fuzz-XXXXXX", NULL);

                if (g_mkdtemp(path) == NULL) {
                        g_printerr("cannot make a scratch directory in %s: %s\n", base,
                                   g_strerror(errno));
                        abort();
                }
                fuzz_dir = g_steal_pointer(&path);
                atexit(fuzz_cleanup);
        }
        return fuzz_dir;
}

/**
 * vt_fuzz_write_file:
 * @dir: a directory
 * @name: a file name in it (may contain one `/`: the directory is made)
 * @data: the content
 * @size: its length
 *
 * Replaces DIR/NAME with @data. A failure aborts: it is the harness's.
 */
void
vt_fuzz_write_file(const char *dir, const char *name, const void *data, gsize size)
{
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *parent = g_path_get_dirname(path);
        int fd;

        if (g_mkdir_with_parents(parent, 0700) < 0 ||
            (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
                g_printerr("cannot write %s: %s\n", path, g_strerror(errno));
                abort();
        }
        while (size > 0) {
                ssize_t n = write(fd, data, size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        g_printerr("cannot write %s: %s\n", path, g_strerror(errno));
                        abort();
                }
                data = (const char *)data + n;
                size -= (gsize)n;
        }
        close(fd);
}

/**
 * vt_fuzz_strndup:
 * @data: the input
 * @size: its length
 *
 * The input as a C string, as a peer's bytes reach a parser that takes
 * one: cut at the first NUL.
 *
 * Returns: (transfer full): a NUL-terminated copy
 */
char *
vt_fuzz_strndup(const uint8_t *data, size_t size)
{
        char *text = g_malloc(size + 1);

        memcpy(text, data, size);
        text[size] = '\0';
        return text;
}

/**
 * vt_fuzz_each_message:
 * @data: the input: a peer's byte stream
 * @size: its length
 * @max_message: the framer's bound, as the peer's reader sets it
 * @max_depth: the same
 * @max_values: the same
 * @func: called with each object the framer returns
 * @user_data: for @func
 *
 * Frames @data as the daemon frames what a peer sends (QMP, the agent's
 * lines, control requests), so that a target sees exactly what reaches
 * the parser behind the framer.
 */
void
vt_fuzz_each_message(const uint8_t *data, size_t size, gsize max_message, guint max_depth,
                     gsize max_values, VtFuzzMessageFunc func, gpointer user_data)
{
        g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(max_message, max_depth, max_values);
        VtQmpFramerStatus status;

        vt_qmp_framer_push(framer, data, size);
        do {
                json_object *object = NULL;

                status = vt_qmp_framer_next(framer, &object, NULL);
                if (status == VT_QMP_FRAMER_MESSAGE)
                        func(object, user_data);
                json_object_put(object);
        } while (status != VT_QMP_FRAMER_NEED_MORE);
}
