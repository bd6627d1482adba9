/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One KSM step of a tick: sample, run the tuner, apply what it decided. */
#pragma once

#include "ksm/ksm-sysfs.h"
#include "ksm/ksm-tuner.h"

G_BEGIN_DECLS

typedef struct _VtKsmStep VtKsmStep;

/**
 * VtKsmStepGuest:
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
} VtKsmStepGuest;

VtKsmStep *vt_ksm_step_new(const char *sysfs_root, const char *proc_root, VtKsmTunerFunc tuner,
                           const VtKsmTunerConfig *config, GError **error);
void vt_ksm_step_free(VtKsmStep *ksm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtKsmStep, vt_ksm_step_free)

gboolean vt_ksm_step_run(VtKsmStep *ksm, const VtKsmHost *host, VtKsmStepGuest *guests,
                         guint n_guests, gboolean apply, gboolean *ret_changed, GError **error);
const VtKsmDecision *vt_ksm_step_get_decision(VtKsmStep *ksm);
const VtKsmSample *vt_ksm_step_get_sample(VtKsmStep *ksm);
double vt_ksm_step_get_cpu_share(VtKsmStep *ksm);
guint64 vt_ksm_step_get_page_size(VtKsmStep *ksm);
const char *vt_ksm_step_get_other_writer(VtKsmStep *ksm);
void vt_ksm_step_set_config(VtKsmStep *ksm, const VtKsmTunerConfig *config);

G_END_DECLS
