/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing the KSM knobs: the kernel's ranges, checked writes, save and restore. */

/*
 * Theory of operation: writes go through a table of the ranges mm/ksm.c
 * accepts, so a bad value is refused here with a message that names the
 * knob and the value, rather than by the kernel with a bare EINVAL. The
 * table also knows the two states in which the kernel refuses a valid
 * value: `pages_to_scan` while the scan-time advisor owns it (EINVAL), and
 * `max_page_sharing` / `merge_across_nodes` changes while pages are merged
 * (EBUSY). Every write is read back, since sysfs can accept a write it
 * does not apply.
 *
 * Save and restore record every writable knob and write back only those
 * that differ, in the table's order: the advisor's parameters before
 * `advisor_mode` (switching the mode resets `pages_to_scan`), then
 * `pages_to_scan` (skipped when the saved mode is the advisor's), the
 * other tunables, and `run` last so ksmd starts or stops under the final
 * settings.
 *
 * Reading goes through the driver's public readers (ksm-sysfs.c).
 */
#include "ksm/ksm-sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

typedef enum {
        KNOB_READ_ONLY,
        KNOB_NUMBER,
        KNOB_WORD,
} KnobKind;

/* A condition under which the kernel refuses an otherwise valid value. */
typedef enum {
        KNOB_ANY_TIME,
        KNOB_NOT_WITH_ADVISOR,
        KNOB_UNCHANGED_WHILE_MERGED,
} KnobWhen;

typedef struct {
        const char *name;
        KnobKind kind;
        guint64 min;
        guint64 max;
        KnobWhen when;
} KsmKnob;

static const char *const advisor_modes[] = {"none", "scan-time", NULL};

/*
 * Ranges from mm/ksm.c: kstrtouint() knobs take 0..UINT_MAX, kstrtobool()
 * ones 0/1 here. The kernel takes any unsigned long for advisor_max_cpu
 * (a percentage of one CPU, stored in an unsigned int) and the advisor's
 * page bounds (applied to the unsigned int pages_to_scan): vmtide keeps
 * them to values that mean something. Writable knobs are in restore order.
 */
static const KsmKnob ksm_knobs[] = {
    {"advisor_max_cpu", KNOB_NUMBER, 1, 100, KNOB_ANY_TIME},
    {"advisor_min_pages_to_scan", KNOB_NUMBER, 1, G_MAXUINT, KNOB_ANY_TIME},
    {"advisor_max_pages_to_scan", KNOB_NUMBER, 1, G_MAXUINT, KNOB_ANY_TIME},
    {"advisor_target_scan_time", KNOB_NUMBER, 1, G_MAXULONG, KNOB_ANY_TIME},
    {"advisor_mode", KNOB_WORD, 0, 0, KNOB_ANY_TIME},
    {"pages_to_scan", KNOB_NUMBER, 0, G_MAXUINT, KNOB_NOT_WITH_ADVISOR},
    {"sleep_millisecs", KNOB_NUMBER, 0, G_MAXUINT, KNOB_ANY_TIME},
    {"use_zero_pages", KNOB_NUMBER, 0, 1, KNOB_ANY_TIME},
    {"smart_scan", KNOB_NUMBER, 0, 1, KNOB_ANY_TIME},
    {"stable_node_chains_prune_millisecs", KNOB_NUMBER, 0, G_MAXUINT, KNOB_ANY_TIME},
    {"max_page_sharing", KNOB_NUMBER, 2, G_MAXINT, KNOB_UNCHANGED_WHILE_MERGED},
    {"merge_across_nodes", KNOB_NUMBER, 0, 1, KNOB_UNCHANGED_WHILE_MERGED},
    {"run", KNOB_NUMBER, 0, 2, KNOB_ANY_TIME},
    {"full_scans", KNOB_READ_ONLY, 0, 0, KNOB_ANY_TIME},
    {"general_profit", KNOB_READ_ONLY, 0, 0, KNOB_ANY_TIME},
    {"ksm_zero_pages", KNOB_READ_ONLY, 0, 0, KNOB_ANY_TIME},
    {"pages_scanned", KNOB_READ_ONLY, 0, 0, KNOB_ANY_TIME},
    {"pages_shared", KNOB_READ_ONLY, 0, 0, KNOB_ANY_TIME},
    {"pages_sharing", KNOB_READ_ONLY, 0, 0, KNOB_ANY_TIME},
    {"pages_skipped", KNOB_READ_ONLY, 0, 0, KNOB_ANY_TIME},
    {"pages_unshared", KNOB_READ_ONLY, 0, 0, KNOB_ANY_TIME},
    {"pages_volatile", KNOB_READ_ONLY, 0, 0, KNOB_ANY_TIME},
    {"stable_node_chains", KNOB_READ_ONLY, 0, 0, KNOB_ANY_TIME},
    {"stable_node_dups", KNOB_READ_ONLY, 0, 0, KNOB_ANY_TIME},
};

typedef struct {
        const KsmKnob *knob;
        char *value;
} KsmSetting;

struct _VtKsmSysfsSettings {
        /* KsmSetting, in ksm_knobs order. */
        GPtrArray *settings;
};

static const KsmKnob *
knob_lookup(const char *name)
{
        for (guint i = 0; i < G_N_ELEMENTS(ksm_knobs); i++) {
                if (g_str_equal(ksm_knobs[i].name, name))
                        return &ksm_knobs[i];
        }
        return NULL;
}

static gboolean
knob_word_valid(const char *word)
{
        return g_strv_contains(advisor_modes, word);
}

/*
 * Writes @text to @path in one write(), as sysfs wants: the kernel's store
 * function sees the whole value and its return is the write's. Returns 0
 * or -errno.
 */
static int
sysfs_write_file(const char *path, const char *text)
{
        gsize len = strlen(text);
        ssize_t n;
        int fd;

        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        do {
                n = write(fd, text, len);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
                int saved = errno;

                close(fd);
                return -saved;
        }
        if (close(fd) < 0 && errno != EINTR)
                return -errno;
        if ((gsize)n != len)
                return -EIO;
        return 0;
}

/**
 * vt_ksm_sysfs_is_writable:
 * @knob: a knob name
 *
 * Returns: whether @knob is a tunable vmtide knows how to write (as
 *     opposed to a counter or an unknown file)
 */
gboolean
vt_ksm_sysfs_is_writable(const char *knob)
{
        const KsmKnob *k;

        g_return_val_if_fail(knob != NULL, FALSE);
        k = knob_lookup(knob);
        return k != NULL && k->kind != KNOB_READ_ONLY;
}

/* The current value of a writable knob, as save records it. */
static char *
sysfs_read_setting(VtKsmSysfs *sysfs, const KsmKnob *knob, GError **error)
{
        guint64 value;

        if (knob->kind == KNOB_WORD)
                return vt_ksm_sysfs_read_string(sysfs, knob->name, error);
        if (!vt_ksm_sysfs_read_u64(sysfs, knob->name, &value, error))
                return NULL;
        return g_strdup_printf("%" G_GUINT64_FORMAT, value);
}

/*
 * Refuses what the kernel would refuse in its present state, with a
 * clearer message than its errno. @text is @value as written.
 */
static gboolean
sysfs_check_state(VtKsmSysfs *sysfs, const KsmKnob *knob, guint64 value, const char *text,
                  GError **error)
{
        if (knob->when == KNOB_NOT_WITH_ADVISOR && vt_ksm_sysfs_has(sysfs, "advisor_mode")) {
                g_autofree char *mode = vt_ksm_sysfs_read_string(sysfs, "advisor_mode", error);

                if (mode == NULL)
                        return FALSE;
                if (!g_str_equal(mode, "none")) {
                        g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_BUSY,
                                    "cannot set KSM '%s' to %s: advisor_mode '%s' sets it",
                                    knob->name, text, mode);
                        return FALSE;
                }
        }
        if (knob->when == KNOB_UNCHANGED_WHILE_MERGED) {
                guint64 current;
                guint64 shared;

                if (!vt_ksm_sysfs_read_u64(sysfs, knob->name, &current, error))
                        return FALSE;
                if (current == value)
                        return TRUE;
                if (!vt_ksm_sysfs_read_u64(sysfs, "pages_shared", &shared, error))
                        return FALSE;
                if (shared > 0) {
                        g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_BUSY,
                                    "cannot set KSM '%s' to %s: %" G_GUINT64_FORMAT
                                    " pages are merged (unmerge with run=2 first)",
                                    knob->name, text, shared);
                        return FALSE;
                }
        }
        return TRUE;
}

/* Writes @text, already validated, and reads it back. */
static gboolean
sysfs_write_checked(VtKsmSysfs *sysfs, const KsmKnob *knob, const char *text, GError **error)
{
        g_autofree char *path = g_build_filename(vt_ksm_sysfs_get_root(sysfs), knob->name, NULL);
        g_autofree char *readback = NULL;
        g_autoptr(GError) local_error = NULL;
        int r;

        r = sysfs_write_file(path, text);
        if (r < 0) {
                g_set_error(error, VT_KSM_ERROR,
                            r == -EBUSY ? VT_KSM_ERROR_BUSY : VT_KSM_ERROR_FAILED,
                            "cannot set KSM '%s' to %s: %s", knob->name, text, g_strerror(-r));
                return FALSE;
        }
        readback = sysfs_read_setting(sysfs, knob, &local_error);
        if (readback == NULL) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_MISMATCH,
                            "cannot set KSM '%s' to %s: reading it back failed: %s", knob->name,
                            text, local_error->message);
                return FALSE;
        }
        if (!g_str_equal(readback, text)) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_MISMATCH,
                            "cannot set KSM '%s' to %s: it reads back '%s'", knob->name, text,
                            readback);
                return FALSE;
        }
        g_debug("set KSM '%s' to %s", knob->name, text);
        return TRUE;
}

/* The knob @name if it can be written on this kernel. */
static const KsmKnob *
sysfs_writable_knob(VtKsmSysfs *sysfs, const char *name, const char *text, GError **error)
{
        const KsmKnob *knob = knob_lookup(name);

        if (knob == NULL) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                            "cannot set KSM '%s' to %s: not a knob vmtide knows", name, text);
                return NULL;
        }
        if (knob->kind == KNOB_READ_ONLY) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                            "cannot set KSM '%s' to %s: it is a read-only counter", name, text);
                return NULL;
        }
        if (!vt_ksm_sysfs_has(sysfs, name)) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED,
                            "cannot set KSM '%s' to %s: this kernel has no such knob", name, text);
                return NULL;
        }
        return knob;
}

/**
 * vt_ksm_sysfs_write_u64:
 * @sysfs: a driver
 * @knob: a numeric tunable, e.g. `pages_to_scan`
 * @value: the value
 * @error: return location for a #GError
 *
 * Checks @value against the kernel's range for @knob and against the
 * kernel's state, writes it, and reads it back.
 *
 * Returns: %FALSE, with @knob unchanged unless the kernel took the write
 *     but reads back another value, and: %VT_KSM_ERROR_INVALID for an
 *     unknown or read-only knob, a word knob or a value out of range;
 *     %VT_KSM_ERROR_NOT_SUPPORTED if the kernel lacks @knob;
 *     %VT_KSM_ERROR_BUSY if the kernel refuses it in its current state;
 *     %VT_KSM_ERROR_FAILED if the write fails (the message has the errno);
 *     %VT_KSM_ERROR_MISMATCH if the knob reads back another value
 */
gboolean
vt_ksm_sysfs_write_u64(VtKsmSysfs *sysfs, const char *knob, guint64 value, GError **error)
{
        char text[24];
        const KsmKnob *k;

        g_return_val_if_fail(sysfs != NULL, FALSE);
        g_return_val_if_fail(knob != NULL, FALSE);

        g_snprintf(text, sizeof(text), "%" G_GUINT64_FORMAT, value);
        k = sysfs_writable_knob(sysfs, knob, text, error);
        if (k == NULL)
                return FALSE;
        if (k->kind != KNOB_NUMBER) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                            "cannot set KSM '%s' to %s: it takes a word, not a number", knob, text);
                return FALSE;
        }
        if (value < k->min || value > k->max) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                            "cannot set KSM '%s' to %s: out of range %" G_GUINT64_FORMAT
                            "..%" G_GUINT64_FORMAT,
                            knob, text, k->min, k->max);
                return FALSE;
        }
        if (!sysfs_check_state(sysfs, k, value, text, error))
                return FALSE;
        return sysfs_write_checked(sysfs, k, text, error);
}

/**
 * vt_ksm_sysfs_write_string:
 * @sysfs: a driver
 * @knob: any tunable: a word knob (`advisor_mode`) or a numeric one
 * @value: the value as text: `scan-time`, `1000`
 * @error: return location for a #GError
 *
 * As vt_ksm_sysfs_write_u64(), for either kind of knob: a numeric @value
 * must be a plain decimal number.
 *
 * Returns: %FALSE as vt_ksm_sysfs_write_u64() does
 */
gboolean
vt_ksm_sysfs_write_string(VtKsmSysfs *sysfs, const char *knob, const char *value, GError **error)
{
        const KsmKnob *k;
        guint64 number;

        g_return_val_if_fail(sysfs != NULL, FALSE);
        g_return_val_if_fail(knob != NULL, FALSE);
        g_return_val_if_fail(value != NULL, FALSE);

        k = sysfs_writable_knob(sysfs, knob, value, error);
        if (k == NULL)
                return FALSE;
        if (k->kind == KNOB_NUMBER) {
                if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64, &number, NULL)) {
                        g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                                    "cannot set KSM '%s' to '%s': not a number", knob, value);
                        return FALSE;
                }
                return vt_ksm_sysfs_write_u64(sysfs, knob, number, error);
        }
        if (!knob_word_valid(value)) {
                g_autofree char *words = g_strjoinv(", ", (char **)advisor_modes);

                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                            "cannot set KSM '%s' to '%s': it takes one of %s", knob, value, words);
                return FALSE;
        }
        return sysfs_write_checked(sysfs, k, value, error);
}

static void
setting_free(gpointer data)
{
        KsmSetting *setting = data;

        g_free(setting->value);
        g_free(setting);
}

/**
 * vt_ksm_sysfs_save:
 * @sysfs: a driver
 * @error: return location for a #GError
 *
 * Records every writable knob this kernel has. Only reads.
 *
 * Returns: (transfer full): the settings, or %NULL if a knob does not read
 */
VtKsmSysfsSettings *
vt_ksm_sysfs_save(VtKsmSysfs *sysfs, GError **error)
{
        g_autoptr(VtKsmSysfsSettings) settings = g_new0(VtKsmSysfsSettings, 1);

        g_return_val_if_fail(sysfs != NULL, NULL);

        settings->settings = g_ptr_array_new_with_free_func(setting_free);
        for (guint i = 0; i < G_N_ELEMENTS(ksm_knobs); i++) {
                const KsmKnob *knob = &ksm_knobs[i];
                KsmSetting *setting;
                char *value;

                if (knob->kind == KNOB_READ_ONLY || !vt_ksm_sysfs_has(sysfs, knob->name))
                        continue;
                value = sysfs_read_setting(sysfs, knob, error);
                if (value == NULL)
                        return NULL;
                setting = g_new0(KsmSetting, 1);
                setting->knob = knob;
                setting->value = value;
                g_ptr_array_add(settings->settings, setting);
        }
        return g_steal_pointer(&settings);
}

/**
 * vt_ksm_sysfs_settings_lookup:
 * @settings: saved settings
 * @knob: a knob name
 *
 * Returns: (transfer none) (nullable): the value saved for @knob, as text
 *     (`1000`, `scan-time`); %NULL if none was
 */
const char *
vt_ksm_sysfs_settings_lookup(const VtKsmSysfsSettings *settings, const char *knob)
{
        g_return_val_if_fail(settings != NULL, NULL);
        g_return_val_if_fail(knob != NULL, NULL);

        for (guint i = 0; i < settings->settings->len; i++) {
                const KsmSetting *setting = g_ptr_array_index(settings->settings, i);

                if (g_str_equal(setting->knob->name, knob))
                        return setting->value;
        }
        return NULL;
}

/**
 * vt_ksm_sysfs_settings_free:
 * @settings: (nullable): saved settings
 */
void
vt_ksm_sysfs_settings_free(VtKsmSysfsSettings *settings)
{
        if (settings == NULL)
                return;
        g_clear_pointer(&settings->settings, g_ptr_array_unref);
        g_free(settings);
}

/**
 * vt_ksm_sysfs_restore:
 * @sysfs: a driver
 * @settings: what vt_ksm_sysfs_save() recorded
 * @error: return location for a #GError
 *
 * Writes back each knob whose value differs, in a safe order (see the top
 * of this file), with the checks of vt_ksm_sysfs_write_string(). Knobs
 * that only change while nothing is merged (`merge_across_nodes`,
 * `max_page_sharing`) are untouched when they did not change, the usual
 * case. A failed knob does not stop the others from being restored.
 *
 * Returns: %FALSE if any knob could not be restored; the error has the
 *     code of the first failure and the messages of all
 */
gboolean
vt_ksm_sysfs_restore(VtKsmSysfs *sysfs, const VtKsmSysfsSettings *settings, GError **error)
{
        g_autoptr(GString) messages = NULL;
        const char *saved_mode;
        gint first_code = -1;

        g_return_val_if_fail(sysfs != NULL, FALSE);
        g_return_val_if_fail(settings != NULL, FALSE);

        saved_mode = vt_ksm_sysfs_settings_lookup(settings, "advisor_mode");
        for (guint i = 0; i < settings->settings->len; i++) {
                const KsmSetting *setting = g_ptr_array_index(settings->settings, i);
                const KsmKnob *knob = setting->knob;
                g_autoptr(GError) local_error = NULL;
                g_autofree char *current = NULL;

                if (!vt_ksm_sysfs_has(sysfs, knob->name))
                        continue;
                /* The scan-time advisor owns pages_to_scan and refuses writes. */
                if (knob->when == KNOB_NOT_WITH_ADVISOR && saved_mode != NULL &&
                    !g_str_equal(saved_mode, "none"))
                        continue;
                current = sysfs_read_setting(sysfs, knob, &local_error);
                if (current != NULL && g_str_equal(current, setting->value))
                        continue;
                if (current != NULL)
                        vt_ksm_sysfs_write_string(sysfs, knob->name, setting->value, &local_error);
                if (local_error == NULL)
                        continue;
                if (messages == NULL) {
                        messages = g_string_new(NULL);
                        first_code = local_error->code;
                } else {
                        g_string_append(messages, "; ");
                }
                g_string_append(messages, local_error->message);
        }
        if (messages != NULL) {
                g_set_error(error, VT_KSM_ERROR, first_code, "cannot restore KSM settings: %s",
                            messages->str);
                return FALSE;
        }
        return TRUE;
}
