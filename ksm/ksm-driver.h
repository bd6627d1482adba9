/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Applying a tuner's decision to the kernel's KSM knobs. */
#pragma once

#include "ksm/ksm-sysfs.h"
#include "ksm/ksm-tuner.h"

G_BEGIN_DECLS

gboolean vt_ksm_driver_apply(VtKsmSysfs *sysfs, const VtKsmDecision *decision, guint *ret_n_writes,
                             GError **error);

G_END_DECLS
