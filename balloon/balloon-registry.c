/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The balloon policies by name, beside the policies: add a policy here. Pure. */
#include "balloon/balloon-registry.h"

#include <string.h>

/* The first is the default. */
static const VtBalloonPolicyInfo policies[] = {
    {"vmtide", vt_balloon_policy_decide,
     "gives at once to a guest in need, reclaims only what the host needs, by host state"},
    {"mom", vt_balloon_policy_mom_decide,
     "oVirt MoM's default balloon rules: every guest shrinks or grows 5 % every 10 s"},
    {"proxmox", vt_balloon_policy_proxmox_decide,
     "Proxmox VE's auto-ballooning: a shares-weighted split towards 80 % host use, "
     "100 MiB per guest every 10 s"},
};

/**
 * vt_balloon_registry_list:
 * @ret_n: (out): how many policies there are
 *
 * Returns: (transfer none) (array length=ret_n): every balloon policy,
 *     the default (vmtide's) first
 */
const VtBalloonPolicyInfo *
vt_balloon_registry_list(guint *ret_n)
{
        g_return_val_if_fail(ret_n != NULL, NULL);

        *ret_n = G_N_ELEMENTS(policies);
        return policies;
}

/**
 * vt_balloon_registry_lookup:
 * @name: a policy's name
 *
 * Returns: (transfer none) (nullable): the policy called @name, or %NULL
 *     when there is none
 */
const VtBalloonPolicyInfo *
vt_balloon_registry_lookup(const char *name)
{
        g_return_val_if_fail(name != NULL, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(policies); i++)
                if (strcmp(policies[i].name, name) == 0)
                        return &policies[i];
        return NULL;
}
