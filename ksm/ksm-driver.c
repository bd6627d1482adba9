/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Applying a tuner's decision to the kernel's KSM knobs.
 *
 * Only knobs whose value differs are written, in an order the kernel
 * accepts: the advisor's mode before pages_to_scan (the kernel refuses
 * pages_to_scan while the scan-time advisor owns it, and switching the
 * advisor off resets it), the scan knobs before `run`, so ksmd starts with
 * the rate it was meant to have.
 */
#include "ksm/ksm-driver.h"

static gboolean
driver_set_u64(VtKsmSysfs *sysfs, const char *knob, guint64 value, guint *n_writes, GError **error)
{
        guint64 current = 0;

        if (!vt_ksm_sysfs_read_u64(sysfs, knob, &current, error))
                return FALSE;
        if (current == value)
                return TRUE;
        if (!vt_ksm_sysfs_write_u64(sysfs, knob, value, error))
                return FALSE;
        (*n_writes)++;
        return TRUE;
}

static gboolean
driver_set_advisor_mode(VtKsmSysfs *sysfs, const char *mode, guint *n_writes, GError **error)
{
        g_autofree char *current = vt_ksm_sysfs_read_string(sysfs, "advisor_mode", error);

        if (current == NULL)
                return FALSE;
        if (g_str_equal(current, mode))
                return TRUE;
        if (!vt_ksm_sysfs_write_string(sysfs, "advisor_mode", mode, error))
                return FALSE;
        (*n_writes)++;
        return TRUE;
}

/**
 * vt_ksm_driver_apply:
 * @sysfs: the KSM sysfs
 * @decision: what a tuner decided
 * @ret_n_writes: (out) (optional): how many knobs were written
 * @error: the first refused write, naming the knob and value, or
 *     %VT_KSM_ERROR_NOT_SUPPORTED when the decision needs the advisor and
 *     the kernel lacks it
 *
 * Returns: %TRUE if the knobs now say what @decision asks
 */
gboolean
vt_ksm_driver_apply(VtKsmSysfs *sysfs, const VtKsmDecision *decision, guint *ret_n_writes,
                    GError **error)
{
        gboolean has_advisor;
        guint n_writes = 0;

        g_return_val_if_fail(sysfs != NULL, FALSE);
        g_return_val_if_fail(decision != NULL, FALSE);

        has_advisor = vt_ksm_sysfs_has(sysfs, "advisor_mode");
        if (decision->use_advisor) {
                if (!has_advisor) {
                        g_set_error_literal(error, VT_KSM_ERROR, VT_KSM_ERROR_NOT_SUPPORTED,
                                            "this kernel has no KSM advisor");
                        return FALSE;
                }
                if (!driver_set_u64(sysfs, "advisor_target_scan_time",
                                    decision->advisor_target_scan_time_s, &n_writes, error) ||
                    !driver_set_advisor_mode(sysfs, "scan-time", &n_writes, error))
                        return FALSE;
        } else {
                if (has_advisor && !driver_set_advisor_mode(sysfs, "none", &n_writes, error))
                        return FALSE;
                if (!driver_set_u64(sysfs, "pages_to_scan", decision->pages_to_scan, &n_writes,
                                    error))
                        return FALSE;
        }
        if (!driver_set_u64(sysfs, "sleep_millisecs", decision->sleep_millisecs, &n_writes,
                            error) ||
            !driver_set_u64(sysfs, "run", decision->run, &n_writes, error))
                return FALSE;
        if (ret_n_writes != NULL)
                *ret_n_writes = n_writes;
        return TRUE;
}
