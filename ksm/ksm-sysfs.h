/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The KSM sysfs driver: what the kernel offers, knobs read and written safely. */
#pragma once

#include <glib.h>

#include "ksm/ksm-sample.h"

G_BEGIN_DECLS

#define VT_KSM_SYSFS_ROOT "/sys/kernel/mm/ksm"
#define VT_KSM_PROC_ROOT  "/proc"

#define VT_KSM_ERROR (vt_ksm_error_quark())

/**
 * VtKsmError:
 * @VT_KSM_ERROR_NOT_SUPPORTED: the kernel has no KSM, lacks the knob, or
 *     does not report KSM per process
 * @VT_KSM_ERROR_INVALID: a value outside the knob's range, a read-only or
 *     unknown knob, or content that does not parse
 * @VT_KSM_ERROR_BUSY: the kernel refuses the value in its current state:
 *     `pages_to_scan` while the scan-time advisor sets it, or a change of
 *     `max_page_sharing` / `merge_across_nodes` while pages are merged
 *     (EBUSY)
 * @VT_KSM_ERROR_FAILED: the kernel refused a write, or a file could not be
 *     read; the message carries strerror()
 * @VT_KSM_ERROR_MISMATCH: a write was accepted but the knob reads back
 *     something else
 * @VT_KSM_ERROR_NOT_FOUND: the process (or ksmd) does not exist
 *
 * Codes of the %VT_KSM_ERROR domain (the sysfs driver and ksm-proc.c).
 * Messages name the knob or file and, for writes, the value.
 */
typedef enum {
        VT_KSM_ERROR_NOT_SUPPORTED,
        VT_KSM_ERROR_INVALID,
        VT_KSM_ERROR_BUSY,
        VT_KSM_ERROR_FAILED,
        VT_KSM_ERROR_MISMATCH,
        VT_KSM_ERROR_NOT_FOUND,
        VT_KSM_ERROR_MAX,
} VtKsmError;

GQuark vt_ksm_error_quark(void);

typedef struct _VtKsmSysfs VtKsmSysfs;
typedef struct _VtKsmSysfsSettings VtKsmSysfsSettings;

VtKsmSysfs *vt_ksm_sysfs_new(const char *root, GError **error);
void vt_ksm_sysfs_free(VtKsmSysfs *sysfs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtKsmSysfs, vt_ksm_sysfs_free)

void vt_ksm_sysfs_set_proc_root(VtKsmSysfs *sysfs, const char *proc_root);
const char *vt_ksm_sysfs_get_root(VtKsmSysfs *sysfs);

gboolean vt_ksm_sysfs_has(VtKsmSysfs *sysfs, const char *knob);
const char *const *vt_ksm_sysfs_get_knobs(VtKsmSysfs *sysfs);

/* Reading (ksm-sysfs.c). */
gboolean vt_ksm_sysfs_read_u64(VtKsmSysfs *sysfs, const char *knob, guint64 *ret_value,
                               GError **error);
gboolean vt_ksm_sysfs_read_i64(VtKsmSysfs *sysfs, const char *knob, gint64 *ret_value,
                               GError **error);
char *vt_ksm_sysfs_read_string(VtKsmSysfs *sysfs, const char *knob, GError **error);
gboolean vt_ksm_sysfs_read_sample(VtKsmSysfs *sysfs, VtKsmSample *ret_sample, GError **error);

/* Writing, saving and restoring the knobs (ksm-sysfs-knobs.c). */
gboolean vt_ksm_sysfs_is_writable(const char *knob);
gboolean vt_ksm_sysfs_write_u64(VtKsmSysfs *sysfs, const char *knob, guint64 value, GError **error);
gboolean vt_ksm_sysfs_write_string(VtKsmSysfs *sysfs, const char *knob, const char *value,
                                   GError **error);

VtKsmSysfsSettings *vt_ksm_sysfs_save(VtKsmSysfs *sysfs, GError **error);
gboolean vt_ksm_sysfs_restore(VtKsmSysfs *sysfs, const VtKsmSysfsSettings *settings,
                              GError **error);
const char *vt_ksm_sysfs_settings_lookup(const VtKsmSysfsSettings *settings, const char *knob);
void vt_ksm_sysfs_settings_free(VtKsmSysfsSettings *settings);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtKsmSysfsSettings, vt_ksm_sysfs_settings_free)

G_END_DECLS
