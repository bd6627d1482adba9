/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's KSM step: sample, run the tuner, apply what changed. */
#pragma once

#include "ksm/ksm-sysfs.h"
#include "ksm/ksm-tuner.h"

G_BEGIN_DECLS

typedef struct _VtDaemonKsm VtDaemonKsm;

/**
 * VtDaemonKsmGuest:
 * @name: the guest's name (borrowed)
 * @pid: its QEMU process (0: unknown)
 * @mergeable_bytes: its RAM, which QEMU marks mergeable
 * @opt_out: its policy opts it out of KSM
 * @ret_merging_pages: (out): its merged pages, -1 when unknown
 * @ret_profit: (out): its KSM profit in bytes, -1 when unknown
 */
typedef struct {
        const char *name;
        GPid pid;
        guint64 mergeable_bytes;
        gboolean opt_out;
        gint64 ret_merging_pages;
        gint64 ret_profit;
} VtDaemonKsmGuest;

VtDaemonKsm *vt_daemon_ksm_new(const char *sysfs_root, const char *proc_root, VtKsmTunerFunc tuner,
                               const VtKsmTunerConfig *config, GError **error);
void vt_daemon_ksm_free(VtDaemonKsm *ksm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtDaemonKsm, vt_daemon_ksm_free)

gboolean vt_daemon_ksm_step(VtDaemonKsm *ksm, const VtKsmHost *host, VtDaemonKsmGuest *guests,
                            guint n_guests, gboolean apply, gboolean *ret_changed, GError **error);
const VtKsmDecision *vt_daemon_ksm_get_decision(VtDaemonKsm *ksm);
const VtKsmSample *vt_daemon_ksm_get_sample(VtDaemonKsm *ksm);
double vt_daemon_ksm_get_cpu_share(VtDaemonKsm *ksm);
guint64 vt_daemon_ksm_get_page_size(VtDaemonKsm *ksm);

G_END_DECLS
