/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A PSI trigger on the host's memory pressure file.
 *
 * Theory of operation: since Linux 5.2, writing "some|full THRESHOLD_US
 * WINDOW_US" to an open /proc/pressure/memory (or a cgroup v2
 * memory.pressure) arms a trigger on that file descriptor: whenever tasks
 * stall on memory for more than THRESHOLD_US within a WINDOW_US, poll()
 * on the descriptor reports POLLPRI. The kernel fires at most once per
 * window, and poll() itself consumes the event, so nothing is read: the
 * main loop polls for G_IO_PRI and the callback runs once per firing. The
 * trigger lives as long as the descriptor; closing it disarms it.
 *
 * The kernel copies the written text into a small buffer and overwrites
 * its last byte with a NUL, so the text is written with its terminating
 * NUL (otherwise "2000000" would arrive as "200000").
 *
 * Privileges: arming a trigger takes CAP_SYS_RESOURCE for any window.
 * Without it, kernels before 6.5 refuse (EPERM) and later ones accept
 * only windows that are multiples of 2 s (EINVAL otherwise: such triggers
 * ride on the 2 s averaging work). vmtided runs as root and normally has
 * the capability, but root in a container often lacks it, hence the 2 s
 * window of the default trigger. A regular file (a test fixture) is refused before
 * anything is written to it: only files on procfs or cgroup2 are pressure
 * files.
 */
#include "host/sensing/sensing-psi.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* The kernel parses at most this much (kernel/sched/psi.c: char buf[32]). */
#define SPEC_MAX 32

struct _VtPsiTrigger {
        char *path;
        char *spec;
        int fd;
        GSource *source;
        VtPsiTriggerFunc func;
        gpointer user_data;
        guint64 n_fired;
};

static gboolean
parse_u32(const char *text, guint64 *ret_value)
{
        return g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, ret_value, NULL);
}

/**
 * vt_psi_trigger_spec_parse:
 * @text: "some|full THRESHOLD_US WINDOW_US", blanks between the words
 * @ret_spec: (out): the trigger; written only on success
 * @error: %G_IO_ERROR_INVALID_ARGUMENT when @text is not a trigger or its
 *     numbers are out of the kernel's bounds; the message does not repeat
 *     @text (callers quote it)
 *
 * Checks what the kernel checks (threshold 1 µs to the window, window
 * VT_PSI_TRIGGER_WINDOW_MIN_US to _MAX_US), except the 2 s rule for
 * unprivileged callers, which depends on who writes it.
 *
 * Returns: %TRUE if @text is a valid trigger
 */
gboolean
vt_psi_trigger_spec_parse(const char *text, VtPsiTriggerSpec *ret_spec, GError **error)
{
        g_auto(GStrv) words = NULL;
        const char *w[3];
        guint64 threshold, window;
        guint n = 0;

        g_return_val_if_fail(text != NULL, FALSE);
        g_return_val_if_fail(ret_spec != NULL, FALSE);

        words = g_strsplit_set(text, " \t", -1);
        for (guint i = 0; words[i] != NULL; i++) {
                if (words[i][0] == '\0')
                        continue;
                if (n == G_N_ELEMENTS(w)) {
                        n++;
                        break;
                }
                w[n++] = words[i];
        }
        if (n != 3 || (strcmp(w[0], "some") != 0 && strcmp(w[0], "full") != 0) ||
            !parse_u32(w[1], &threshold) || !parse_u32(w[2], &window)) {
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "not of the form 'some|full THRESHOLD_US WINDOW_US'");
                return FALSE;
        }
        if ((gint64)window < VT_PSI_TRIGGER_WINDOW_MIN_US ||
            (gint64)window > VT_PSI_TRIGGER_WINDOW_MAX_US) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "the window must be %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " µs",
                            (gint64)VT_PSI_TRIGGER_WINDOW_MIN_US,
                            (gint64)VT_PSI_TRIGGER_WINDOW_MAX_US);
                return FALSE;
        }
        if (threshold == 0 || threshold > window) {
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "the threshold must be 1 µs to the window");
                return FALSE;
        }
        *ret_spec = (VtPsiTriggerSpec){
            .full = strcmp(w[0], "full") == 0,
            .threshold_us = (gint64)threshold,
            .window_us = (gint64)window,
        };
        return TRUE;
}

/**
 * vt_psi_trigger_spec_to_string:
 * @spec: a trigger
 *
 * Returns: (transfer full): the text the kernel takes, "some 150000 2000000"
 */
char *
vt_psi_trigger_spec_to_string(const VtPsiTriggerSpec *spec)
{
        g_return_val_if_fail(spec != NULL, NULL);

        return g_strdup_printf("%s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
                               spec->full ? "full" : "some", spec->threshold_us, spec->window_us);
}

static gboolean
trigger_on_ready(int fd, GIOCondition condition, gpointer user_data)
{
        VtPsiTrigger *trigger = user_data;

        if (condition & (G_IO_ERR | G_IO_HUP | G_IO_NVAL)) {
                g_autoptr(GError) error = NULL;

                g_set_error(&error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "PSI trigger '%s' on %s was dropped by the kernel", trigger->spec,
                            trigger->path);
                /* GLib destroys the source after this returns; the callback
                 * may free the trigger, so nothing touches it afterwards. */
                trigger->func(trigger, error, trigger->user_data);
                return G_SOURCE_REMOVE;
        }
        if (condition & G_IO_PRI) {
                trigger->n_fired++;
                trigger->func(trigger, NULL, trigger->user_data);
        }
        return G_SOURCE_CONTINUE;
}

static gboolean
trigger_open(VtPsiTrigger *trigger, GError **error)
{
        struct statfs fs;
        int errsv;

        trigger->fd = open(trigger->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (trigger->fd < 0) {
                errsv = errno;
                if (errsv == ENOENT) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                    "Cannot open %s: %s (the kernel has no PSI: it needs Linux "
                                    "4.20 or later with CONFIG_PSI, not booted with psi=0)",
                                    trigger->path, g_strerror(errsv));
                } else if (errsv == EACCES || errsv == EPERM) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                                    "Cannot open %s for writing: %s (PSI triggers need root)",
                                    trigger->path, g_strerror(errsv));
                } else {
                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                                    "Cannot open %s: %s", trigger->path, g_strerror(errsv));
                }
                return FALSE;
        }
        if (fstatfs(trigger->fd, &fs) < 0) {
                errsv = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                            "Cannot stat the file system of %s: %s", trigger->path,
                            g_strerror(errsv));
                return FALSE;
        }
        if (fs.f_type != PROC_SUPER_MAGIC && fs.f_type != CGROUP2_SUPER_MAGIC) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            "%s is not a pressure file (not on procfs or cgroup2)", trigger->path);
                return FALSE;
        }
        return TRUE;
}

static gboolean
trigger_arm(VtPsiTrigger *trigger, const VtPsiTriggerSpec *spec, GError **error)
{
        gsize len = strlen(trigger->spec) + 1; /* with the NUL, see above */
        ssize_t n;
        int errsv;

        do
                n = write(trigger->fd, trigger->spec, len);
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t)len)
                return TRUE;
        errsv = n < 0 ? errno : EIO;
        if (errsv == EINVAL) {
                gboolean odd = spec->window_us % VT_PSI_TRIGGER_UNPRIVILEGED_WINDOW_US != 0;

                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "The kernel refused PSI trigger '%s' on %s: %s%s", trigger->spec,
                            trigger->path, g_strerror(errsv),
                            odd ? " (without CAP_SYS_RESOURCE the window must be a multiple "
                                  "of 2 s)"
                                : "");
        } else if (errsv == EOPNOTSUPP) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            "The kernel does not support PSI triggers on %s: %s (PSI disabled, "
                            "or a kernel before 5.2)",
                            trigger->path, g_strerror(errsv));
        } else if (errsv == EPERM || errsv == EACCES) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                            "Cannot arm PSI trigger '%s' on %s: %s (needs CAP_SYS_RESOURCE)",
                            trigger->spec, trigger->path, g_strerror(errsv));
        } else {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                            "Cannot arm PSI trigger '%s' on %s: %s", trigger->spec, trigger->path,
                            g_strerror(errsv));
        }
        return FALSE;
}

/**
 * vt_psi_trigger_new:
 * @path: a pressure file: `/proc/pressure/memory`, or a cgroup v2
 *     directory's `memory.pressure`
 * @spec: the trigger, "some|full THRESHOLD_US WINDOW_US"
 * @func: called on each firing (and once if the kernel drops the trigger)
 * @user_data: for @func
 * @error: on failure, a %G_IO_ERROR: %G_IO_ERROR_INVALID_ARGUMENT for a
 *     bad @spec or one the kernel refuses (with a hint when the window is
 *     not a multiple of 2 s, which the kernel requires without
 *     CAP_SYS_RESOURCE); %G_IO_ERROR_NOT_SUPPORTED when the kernel has no
 *     PSI (no file), PSI is disabled (EOPNOTSUPP) or @path is not a
 *     pressure file (a regular file is refused before anything is written
 *     to it); %G_IO_ERROR_PERMISSION_DENIED without root; another code
 *     from errno otherwise. Messages name @path and @spec
 *
 * Opens @path, arms the trigger and watches it from the thread-default
 * main context.
 *
 * Returns: (transfer full): the armed trigger, or %NULL on error
 */
VtPsiTrigger *
vt_psi_trigger_new(const char *path, const char *spec, VtPsiTriggerFunc func, gpointer user_data,
                   GError **error)
{
        g_autoptr(VtPsiTrigger) trigger = NULL;
        g_autoptr(GError) spec_error = NULL;
        VtPsiTriggerSpec parsed;

        g_return_val_if_fail(path != NULL, NULL);
        g_return_val_if_fail(spec != NULL, NULL);
        g_return_val_if_fail(func != NULL, NULL);
        g_return_val_if_fail(error == NULL || *error == NULL, NULL);

        if (!vt_psi_trigger_spec_parse(spec, &parsed, &spec_error)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "Invalid PSI trigger '%s': %s", spec, spec_error->message);
                return NULL;
        }

        trigger = g_new0(VtPsiTrigger, 1);
        trigger->fd = -1;
        trigger->path = g_strdup(path);
        trigger->spec = vt_psi_trigger_spec_to_string(&parsed);
        trigger->func = func;
        trigger->user_data = user_data;
        g_assert(strlen(trigger->spec) < SPEC_MAX);

        if (!trigger_open(trigger, error) || !trigger_arm(trigger, &parsed, error))
                return NULL;

        trigger->source = g_unix_fd_source_new(trigger->fd, G_IO_PRI | G_IO_ERR);
        g_source_set_callback(trigger->source, G_SOURCE_FUNC(trigger_on_ready), trigger, NULL);
        g_source_set_static_name(trigger->source, "vt-psi-trigger");
        g_source_attach(trigger->source, g_main_context_get_thread_default());
        return g_steal_pointer(&trigger);
}

/**
 * vt_psi_trigger_free:
 * @trigger: (nullable): a trigger
 *
 * Disarms it (closes the descriptor) and frees it. Safe from its callback.
 */
void
vt_psi_trigger_free(VtPsiTrigger *trigger)
{
        if (trigger == NULL)
                return;
        if (trigger->source != NULL) {
                g_source_destroy(trigger->source);
                g_source_unref(trigger->source);
        }
        if (trigger->fd >= 0)
                close(trigger->fd);
        g_free(trigger->path);
        g_free(trigger->spec);
        g_free(trigger);
}

/**
 * vt_psi_trigger_get_n_fired:
 * @trigger: a trigger
 *
 * Returns: how many times it fired
 */
guint64
vt_psi_trigger_get_n_fired(VtPsiTrigger *trigger)
{
        g_return_val_if_fail(trigger != NULL, 0);

        return trigger->n_fired;
}

/**
 * vt_psi_trigger_get_path:
 * @trigger: a trigger
 *
 * Returns: (transfer none): the pressure file it watches
 */
const char *
vt_psi_trigger_get_path(VtPsiTrigger *trigger)
{
        g_return_val_if_fail(trigger != NULL, NULL);

        return trigger->path;
}
