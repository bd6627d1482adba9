/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The balloon policies by name: what `[policy] algorithm` chooses from. Pure. */
#pragma once

#include "balloon/balloon-policy.h"

G_BEGIN_DECLS

/**
 * VtBalloonPolicyInfo:
 * @name: its name in the configuration (`[policy] algorithm`): "vmtide",
 *     "mom", "proxmox"
 * @decide: the policy (run it through vt_balloon_decide())
 * @summary: one line saying what it does, for help and documentation
 *
 * One balloon policy in the registry.
 */
typedef struct {
        const char *name;
        VtBalloonPolicyFunc decide;
        const char *summary;
} VtBalloonPolicyInfo;

const VtBalloonPolicyInfo *vt_balloon_registry_list(guint *ret_n);
const VtBalloonPolicyInfo *vt_balloon_registry_lookup(const char *name);

G_END_DECLS
