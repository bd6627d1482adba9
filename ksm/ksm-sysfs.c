/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The KSM sysfs driver: what the kernel offers, and its counters read.
 *
 * Theory of operation: the knobs under /sys/kernel/mm/ksm (or a fake tree
 * in tests) are listed once, when the driver is created, so vmtide knows
 * what this kernel offers: knobs appear with kernel versions (general_profit
 * 6.4, smart_scan and pages_scanned 6.7, advisor_* 6.8, ...) and
 * merge_across_nodes only exists with CONFIG_NUMA. Absent knobs are not an
 * error until someone needs one.
 *
 * Writes, with the kernel's ranges, and save and restore are in
 * ksm-sysfs-knobs.c.
 *
 * ksmd's CPU time comes from /proc (ksm-proc.c); its pid is looked up once.
 */
#include "ksm/ksm-sysfs.h"

#include <string.h>

#include "ksm/ksm-file.h"
#include "ksm/ksm-proc.h"

/* clang-format off */
G_DEFINE_QUARK(vt-ksm-error-quark, vt_ksm_error)
/* clang-format on */

struct _VtKsmSysfs {
        char *root;
        char *proc_root;
        /* Sorted names of the files under root, NULL-terminated. */
        GPtrArray *knobs;
        GHashTable *present;
        pid_t ksmd_pid;
        gboolean ksmd_searched;
};

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

/*
 * @knob as a decimal number: signed into *@ret_signed, or unsigned into
 * *@ret_unsigned (the other is %NULL); written only on success.
 */
static gboolean
sysfs_read_number(VtKsmSysfs *sysfs, const char *knob, gint64 *ret_signed, guint64 *ret_unsigned,
                  GError **error)
{
        g_autofree char *text = sysfs_read_raw(sysfs, knob, error);
        gboolean ok;

        if (text == NULL)
                return FALSE;
        if (ret_signed != NULL)
                ok = g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, ret_signed, NULL);
        else
                ok = g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, ret_unsigned, NULL);
        if (!ok) {
                g_set_error(error, VT_KSM_ERROR, VT_KSM_ERROR_INVALID,
                            "KSM '%s' reads '%s', not %s", knob, text,
                            ret_signed != NULL ? "a number" : "an unsigned number");
                return FALSE;
        }
        return TRUE;
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
        g_return_val_if_fail(sysfs != NULL, FALSE);
        g_return_val_if_fail(knob != NULL, FALSE);
        g_return_val_if_fail(ret_value != NULL, FALSE);

        return sysfs_read_number(sysfs, knob, NULL, ret_value, error);
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
        g_return_val_if_fail(sysfs != NULL, FALSE);
        g_return_val_if_fail(knob != NULL, FALSE);
        g_return_val_if_fail(ret_value != NULL, FALSE);

        return sysfs_read_number(sysfs, knob, ret_value, NULL, error);
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
