/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The KSM tuners by name: what `[ksm] tuner` chooses from. Pure. */
#pragma once

#include "ksm/ksm-tuner.h"

G_BEGIN_DECLS

/**
 * VtKsmTunerInfo:
 * @name: its name in the configuration (`[ksm] tuner`): "vmtide",
 *     "ksmtuned", "advisor"
 * @decide: the tuner
 * @summary: one line saying what it does, for help and documentation
 *
 * One KSM tuner in the registry.
 */
typedef struct {
        const char *name;
        VtKsmTunerFunc decide;
        const char *summary;
} VtKsmTunerInfo;

const VtKsmTunerInfo *vt_ksm_tuner_registry_list(guint *ret_n);
const VtKsmTunerInfo *vt_ksm_tuner_registry_lookup(const char *name);

G_END_DECLS
