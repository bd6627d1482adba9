/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The KSM sysfs driver.
 *
 * Theory of operation: the knobs under /sys/kernel/mm/ksm (or a fake tree
 * in tests) are listed once, when the driver is created, so vmtide knows
 * what this kernel offers: knobs appear with kernel versions (general_profit
 * 6.4, smart_scan and pages_scanned 6.7, advisor_* 6.8, ...) and
 * merge_across_nodes only exists with CONFIG_NUMA. Absent knobs are not an
 * error until someone needs one.
 *
 * Writes go through a table of the ranges mm/ksm.c accepts, so a bad value
 * is refused here with a message that names the knob and the value, rather
 * than by the kernel with a bare EINVAL. The table also knows the two
 * states in which the kernel refuses a valid value: `pages_to_scan` while
 * the scan-time advisor owns it (EINVAL), and `max_page_sharing` /
 * `merge_across_nodes` changes while pages are merged (EBUSY). Every write
 * is read back, since sysfs can accept a write it does not apply.
 *
 * Save and restore record every writable knob and write back only those
 * that differ, in the table's order: the advisor's parameters before
 * `advisor_mode` (switching the mode resets `pages_to_scan`), then
 * `pages_to_scan` (skipped when the saved mode is the advisor's), the
 * other tunables, and `run` last so ksmd starts or stops under the final
 * settings.
 *
 * ksmd's CPU time comes from /proc (ksm-proc.c); its pid is looked up once.
 */
#include "ksm/ksm-sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ksm/ksm-file.h"
#include "ksm/ksm-proc.h"

/* clang-format off */
G_DEFINE_QUARK(vt-ksm-error-quark, vt_ksm_error)
/* clang-format on */

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

struct _VtKsmSysfs {
        char *root;
        char *proc_root;
        /* Sorted names of the files under root, NULL-terminated. */
        GPtrArray *knobs;
        GHashTable *present;
        pid_t ksmd_pid;
        gboolean ksmd_searched;
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

/* For g_ptr_array_sort(), which passes pointers to the elements. */
static gint
sysfs_compare_names(gconstpointer a, gconstpointer b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/**
 * vt_ksm_sysfs_new:
 * @root: (nullable): the KSM sysfs directory, %NULL for
 *     %VT_KSM_SYSFS_ROOT; tests pass a fake tree
 * @error: return location for a #GError
 *
 * Lists the knobs under @root. Only reads.
 *
 * Returns: (transfer full): a new driver, or %NULL with
 *     %VT_KSM_ERROR_NOT_SUPPORTED if @root is missing or is not a KSM
 *     directory
 */
VtKsmSysfs *
vt_ksm_sysfs_new(const char *root, GError **error)
{
        g_autoptr(VtKsmSysfs) sysfs = g_new0(VtKsmSysfs, 1);
        g_autoptr(GError) local_error = NULL;
        g_autoptr(GDir) dir = NULL;
        const char *name;

        sysfs->root = g_strdup(root != NULL ? root : VT_KSM_SYSFS_ROOT);
        sysfs->knobs = g_ptr_array_new_with_free_func(g_free);
        sysfs->present = g_hash_table_new(g_str_hash, g_str_equal);

        if (!g_file_test(sysfs->root, G_FILE_TEST_IS_DIR)) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED,
                            "this kernel has no KSM: %s is missing (CONFIG_KSM)", sysfs->root);
                return NULL;
        }
        dir = g_dir_open(sysfs->root, 0, &local_error);
        if (dir == NULL) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_FAILED, "cannot list %s: %s",
                            sysfs->root, local_error->message);
                return NULL;
        }
        while ((name = g_dir_read_name(dir)) != NULL)
                g_ptr_array_add(sysfs->knobs, g_strdup(name));
        g_ptr_array_sort(sysfs->knobs, sysfs_compare_names);
        for (guint i = 0; i < sysfs->knobs->len; i++)
                g_hash_table_add(sysfs->present, g_ptr_array_index(sysfs->knobs, i));
        g_ptr_array_add(sysfs->knobs, NULL);

        if (!vt_ksm_sysfs_has(sysfs, "run")) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED,
                            "%s is not a KSM sysfs directory: it has no 'run'", sysfs->root);
                return NULL;
        }
        return g_steal_pointer(&sysfs);
}

/**
 * vt_ksm_sysfs_free:
 * @sysfs: (nullable): a driver
 *
 * Frees @sysfs; the KSM settings stay as they are.
 */
void
vt_ksm_sysfs_free(VtKsmSysfs *sysfs)
{
        if (sysfs == NULL)
                return;
        g_clear_pointer(&sysfs->present, g_hash_table_unref);
        g_clear_pointer(&sysfs->knobs, g_ptr_array_unref);
        g_free(sysfs->proc_root);
        g_free(sysfs->root);
        g_free(sysfs);
}

/**
 * vt_ksm_sysfs_set_proc_root:
 * @sysfs: a driver
 * @proc_root: (nullable): where to look for ksmd, %NULL for /proc
 *
 * For tests: pairs a fake sysfs tree with a fake /proc.
 */
void
vt_ksm_sysfs_set_proc_root(VtKsmSysfs *sysfs, const char *proc_root)
{
        g_return_if_fail(sysfs != NULL);
        g_free(sysfs->proc_root);
        sysfs->proc_root = g_strdup(proc_root);
        sysfs->ksmd_pid = 0;
        sysfs->ksmd_searched = FALSE;
}

/**
 * vt_ksm_sysfs_get_root:
 * @sysfs: a driver
 *
 * Returns: (transfer none): the KSM sysfs directory it drives
 */
const char *
vt_ksm_sysfs_get_root(VtKsmSysfs *sysfs)
{
        g_return_val_if_fail(sysfs != NULL, NULL);
        return sysfs->root;
}

/**
 * vt_ksm_sysfs_has:
 * @sysfs: a driver
 * @knob: a knob name, e.g. `advisor_mode`
 *
 * Returns: whether this kernel has @knob (as listed when @sysfs was made)
 */
gboolean
vt_ksm_sysfs_has(VtKsmSysfs *sysfs, const char *knob)
{
        g_return_val_if_fail(sysfs != NULL, FALSE);
        g_return_val_if_fail(knob != NULL, FALSE);
        return g_hash_table_contains(sysfs->present, knob);
}

/**
 * vt_ksm_sysfs_get_knobs:
 * @sysfs: a driver
 *
 * Returns: (transfer none) (array zero-terminated=1): the names of all the
 *     files under the KSM directory, sorted, including ones vmtide does
 *     not know
 */
const char *const *
vt_ksm_sysfs_get_knobs(VtKsmSysfs *sysfs)
{
        g_return_val_if_fail(sysfs != NULL, NULL);
        return (const char *const *)sysfs->knobs->pdata;
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

/* The stripped content of @knob. */
static char *
sysfs_read_raw(VtKsmSysfs *sysfs, const char *knob, GError **error)
{
        g_autofree char *path = NULL;
        char *text = NULL;
        int r;

        if (!vt_ksm_sysfs_has(sysfs, knob)) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED,
                            "this kernel has no KSM '%s'", knob);
                return NULL;
        }
        path = g_build_filename(sysfs->root, knob, NULL);
        r = vt_ksm_file_read(path, &text);
        if (r < 0) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_FAILED, "cannot read KSM '%s': %s",
                            knob, g_strerror(-r));
                return NULL;
        }
        return g_strstrip(text);
}

/**
 * vt_ksm_sysfs_read_u64:
 * @sysfs: a driver
 * @knob: a knob or counter, e.g. `pages_sharing`
 * @ret_value: (out): its value, written only on success
 * @error: return location for a #GError
 *
 * Returns: %FALSE with %VT_KSM_ERROR_NOT_SUPPORTED if the kernel lacks
 *     @knob, %VT_KSM_ERROR_INVALID if it is not an unsigned number,
 *     %VT_KSM_ERROR_FAILED if it cannot be read
 */
gboolean
vt_ksm_sysfs_read_u64(VtKsmSysfs *sysfs, const char *knob, guint64 *ret_value, GError **error)
{
        g_autofree char *text = NULL;
        guint64 value;

        g_return_val_if_fail(sysfs != NULL, FALSE);
        g_return_val_if_fail(knob != NULL, FALSE);
        g_return_val_if_fail(ret_value != NULL, FALSE);

        text = sysfs_read_raw(sysfs, knob, error);
        if (text == NULL)
                return FALSE;
        if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &value, NULL)) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                            "KSM '%s' reads '%s', not an unsigned number", knob, text);
                return FALSE;
        }
        *ret_value = value;
        return TRUE;
}

/**
 * vt_ksm_sysfs_read_i64:
 * @sysfs: a driver
 * @knob: a knob or counter that may be negative, e.g. `general_profit`
 * @ret_value: (out): its value, written only on success
 * @error: return location for a #GError
 *
 * Returns: %FALSE as vt_ksm_sysfs_read_u64() does
 */
gboolean
vt_ksm_sysfs_read_i64(VtKsmSysfs *sysfs, const char *knob, gint64 *ret_value, GError **error)
{
        g_autofree char *text = NULL;
        gint64 value;

        g_return_val_if_fail(sysfs != NULL, FALSE);
        g_return_val_if_fail(knob != NULL, FALSE);
        g_return_val_if_fail(ret_value != NULL, FALSE);

        text = sysfs_read_raw(sysfs, knob, error);
        if (text == NULL)
                return FALSE;
        if (!g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, &value, NULL)) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                            "KSM '%s' reads '%s', not a number", knob, text);
                return FALSE;
        }
        *ret_value = value;
        return TRUE;
}

/**
 * vt_ksm_sysfs_read_string:
 * @sysfs: a driver
 * @knob: a knob, e.g. `advisor_mode`
 * @error: return location for a #GError
 *
 * For a choice such as `[none] scan-time` this is the selected word, `none`;
 * otherwise the content without surrounding white space.
 *
 * Returns: (transfer full): the value, or %NULL as vt_ksm_sysfs_read_u64()
 *     fails
 */
char *
vt_ksm_sysfs_read_string(VtKsmSysfs *sysfs, const char *knob, GError **error)
{
        g_autofree char *text = NULL;
        const char *open_bracket;
        const char *close_bracket;

        g_return_val_if_fail(sysfs != NULL, NULL);
        g_return_val_if_fail(knob != NULL, NULL);

        text = sysfs_read_raw(sysfs, knob, error);
        if (text == NULL)
                return NULL;
        open_bracket = strchr(text, '[');
        close_bracket = open_bracket != NULL ? strchr(open_bracket, ']') : NULL;
        if (close_bracket != NULL)
                return g_strndup(open_bracket + 1, (gsize)(close_bracket - open_bracket - 1));
        return g_steal_pointer(&text);
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
        g_autofree char *path = g_build_filename(sysfs->root, knob->name, NULL);
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

/*
 * ksmd's CPU time, or -1. The pid is looked up once; a failed read looks
 * again once, in case it was stale.
 */
static gint64
sysfs_read_ksmd_cpu_us(VtKsmSysfs *sysfs)
{
        g_autoptr(GError) local_error = NULL;
        gint64 cpu_us;

        if (sysfs->ksmd_pid > 0) {
                if (vt_ksm_proc_read_cpu_us(sysfs->proc_root, sysfs->ksmd_pid, &cpu_us,
                                            &local_error))
                        return cpu_us;
                g_debug("ksmd (%d): %s", (int)sysfs->ksmd_pid, local_error->message);
                g_clear_error(&local_error);
                sysfs->ksmd_pid = 0;
                sysfs->ksmd_searched = FALSE;
        }
        if (sysfs->ksmd_searched)
                return -1;
        sysfs->ksmd_searched = TRUE;
        if (!vt_ksm_proc_find_ksmd(sysfs->proc_root, &sysfs->ksmd_pid, &local_error)) {
                g_debug("ksmd's CPU time is unknown: %s", local_error->message);
                sysfs->ksmd_pid = 0;
                return -1;
        }
        if (!vt_ksm_proc_read_cpu_us(sysfs->proc_root, sysfs->ksmd_pid, &cpu_us, &local_error)) {
                g_debug("ksmd (%d): %s", (int)sysfs->ksmd_pid, local_error->message);
                return -1;
        }
        return cpu_us;
}

/**
 * vt_ksm_sysfs_read_sample:
 * @sysfs: a driver
 * @ret_sample: (out caller-allocates): the sample, written only on success
 * @error: return location for a #GError
 *
 * Reads the counters every kernel has, the optional ones it has (their
 * has_ flags say which), and ksmd's CPU time (-1 if ksmd is not found).
 * @time_us is the monotonic time after the counters were read.
 *
 * Returns: %FALSE if a counter every KSM kernel has is missing or does not
 *     read
 */
gboolean
vt_ksm_sysfs_read_sample(VtKsmSysfs *sysfs, VtKsmSample *ret_sample, GError **error)
{
        static const struct {
                const char *name;
                gsize offset;
        } required[] = {
            {"pages_to_scan", G_STRUCT_OFFSET(VtKsmSample, pages_to_scan)},
            {"sleep_millisecs", G_STRUCT_OFFSET(VtKsmSample, sleep_millisecs)},
            {"pages_shared", G_STRUCT_OFFSET(VtKsmSample, pages_shared)},
            {"pages_sharing", G_STRUCT_OFFSET(VtKsmSample, pages_sharing)},
            {"pages_unshared", G_STRUCT_OFFSET(VtKsmSample, pages_unshared)},
            {"pages_volatile", G_STRUCT_OFFSET(VtKsmSample, pages_volatile)},
            {"full_scans", G_STRUCT_OFFSET(VtKsmSample, full_scans)},
        };
        VtKsmSample sample = {0};
        guint64 run;

        g_return_val_if_fail(sysfs != NULL, FALSE);
        g_return_val_if_fail(ret_sample != NULL, FALSE);

        if (!vt_ksm_sysfs_read_u64(sysfs, "run", &run, error))
                return FALSE;
        if (run > G_MAXUINT) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                            "KSM 'run' reads %" G_GUINT64_FORMAT, run);
                return FALSE;
        }
        sample.run = (guint)run;
        for (guint i = 0; i < G_N_ELEMENTS(required); i++) {
                guint64 *field = G_STRUCT_MEMBER_P(&sample, required[i].offset);

                if (!vt_ksm_sysfs_read_u64(sysfs, required[i].name, field, error))
                        return FALSE;
        }
        if (vt_ksm_sysfs_has(sysfs, "pages_scanned")) {
                if (!vt_ksm_sysfs_read_u64(sysfs, "pages_scanned", &sample.pages_scanned, error))
                        return FALSE;
                sample.has_pages_scanned = TRUE;
        }
        if (vt_ksm_sysfs_has(sysfs, "general_profit")) {
                if (!vt_ksm_sysfs_read_i64(sysfs, "general_profit", &sample.general_profit, error))
                        return FALSE;
                sample.has_general_profit = TRUE;
        }
        if (vt_ksm_sysfs_has(sysfs, "ksm_zero_pages") &&
            !vt_ksm_sysfs_read_u64(sysfs, "ksm_zero_pages", &sample.ksm_zero_pages, error))
                return FALSE;
        sample.time_us = g_get_monotonic_time();
        sample.ksmd_cpu_us = sysfs_read_ksmd_cpu_us(sysfs);
        *ret_sample = sample;
        return TRUE;
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
