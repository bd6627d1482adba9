/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The KSM sysfs driver's readers (numbers, signed numbers, choices such as
 * `[none] scan-time`) on what a knob may hold, through real files in a
 * scratch directory, as the driver reads them. The input is cut at NUL
 * bytes: the parts go to `run`, `pages_sharing`, `general_profit` and
 * `advisor_mode`; the other knobs read 0. The whole input also goes to
 * `pages_shared`, NUL bytes and all.
 */
#include <stdlib.h>
#include <string.h>

#include "ksm/ksm-sysfs.h"
#include "tests/fuzz/fuzz-common.h"

static const char *const fuzzed_knobs[] = {"run", "pages_sharing", "general_profit",
                                           "advisor_mode"};
static const char *const fixed_knobs[] = {"pages_to_scan",  "sleep_millisecs", "pages_unshared",
                                          "pages_volatile", "full_scans",      "pages_scanned",
                                          "ksm_zero_pages"};

static VtKsmSysfs *
ksm_open(char **ret_root)
{
        g_autofree char *root = g_build_filename(vt_fuzz_get_dir(), "ksm", NULL);
        g_autofree char *proc = g_build_filename(vt_fuzz_get_dir(), "proc", NULL);
        g_autoptr(GError) error = NULL;
        VtKsmSysfs *sysfs;

        for (guint i = 0; i < G_N_ELEMENTS(fixed_knobs); i++)
                vt_fuzz_write_file(root, fixed_knobs[i], "0\n", 2);
        for (guint i = 0; i < G_N_ELEMENTS(fuzzed_knobs); i++)
                vt_fuzz_write_file(root, fuzzed_knobs[i], "0\n", 2);
        vt_fuzz_write_file(root, "pages_shared", "0\n", 2);
        vt_fuzz_write_file(proc, "README", "no ksmd here\n", 13);
        sysfs = vt_ksm_sysfs_new(root, &error);
        if (sysfs == NULL) {
                g_printerr("%s\n", error->message);
                abort();
        }
        vt_ksm_sysfs_set_proc_root(sysfs, proc);
        *ret_root = g_steal_pointer(&root);
        return sysfs;
}

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input: knob contents separated by NUL bytes
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static VtKsmSysfs *sysfs;
        static char *root;
        const uint8_t *part = data;
        size_t left = size;
        g_autofree char *choice = NULL;
        VtKsmSample sample;
        guint64 u64;
        gint64 i64;

        if (sysfs == NULL)
                sysfs = ksm_open(&root);
        for (guint i = 0; i < G_N_ELEMENTS(fuzzed_knobs); i++) {
                const uint8_t *nul = part != NULL ? memchr(part, '\0', left) : NULL;
                size_t len = part == NULL ? 0 : nul != NULL ? (size_t)(nul - part) : left;

                if (part == NULL)
                        vt_fuzz_write_file(root, fuzzed_knobs[i], "0\n", 2);
                else
                        vt_fuzz_write_file(root, fuzzed_knobs[i], part, len);
                part = nul != NULL ? nul + 1 : NULL;
                left = nul != NULL ? left - len - 1 : 0;
        }
        vt_fuzz_write_file(root, "pages_shared", data, size);

        (void)vt_ksm_sysfs_read_u64(sysfs, "pages_sharing", &u64, NULL);
        (void)vt_ksm_sysfs_read_u64(sysfs, "pages_shared", &u64, NULL);
        (void)vt_ksm_sysfs_read_i64(sysfs, "general_profit", &i64, NULL);
        (void)vt_ksm_sysfs_read_i64(sysfs, "pages_shared", &i64, NULL);
        choice = vt_ksm_sysfs_read_string(sysfs, "advisor_mode", NULL);
        g_free(vt_ksm_sysfs_read_string(sysfs, "pages_shared", NULL));
        if (vt_ksm_sysfs_read_sample(sysfs, &sample, NULL) && sample.ksmd_cpu_us != -1)
                abort();
        return 0;
}
