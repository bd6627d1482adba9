/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The KSM tuners by name, beside the tuners: add a tuner here. Pure. */
#include "ksm/ksm-tuner-registry.h"

#include <string.h>

/* The first is the default. */
static const VtKsmTunerInfo tuners[] = {
    {"vmtide", vt_ksm_tuner_decide, "merges only when memory is needed and merging pays"},
    {"ksmtuned", vt_ksm_tuner_ksmtuned_decide,
     "ksmtuned's published algorithm: boost 300, decay -50, 64 to 1250 pages"},
    {"advisor", vt_ksm_tuner_advisor_decide,
     "the kernel's scan-time advisor alone, always running"},
};

/**
 * vt_ksm_tuner_registry_list:
 * @ret_n: (out): how many tuners there are
 *
 * Returns: (transfer none) (array length=ret_n): every KSM tuner, the
 *     default (vmtide's) first
 */
const VtKsmTunerInfo *
vt_ksm_tuner_registry_list(guint *ret_n)
{
        g_return_val_if_fail(ret_n != NULL, NULL);

        *ret_n = G_N_ELEMENTS(tuners);
        return tuners;
}

/**
 * vt_ksm_tuner_registry_lookup:
 * @name: a tuner's name
 *
 * Returns: (transfer none) (nullable): the tuner called @name, or %NULL
 *     when there is none
 */
const VtKsmTunerInfo *
vt_ksm_tuner_registry_lookup(const char *name)
{
        g_return_val_if_fail(name != NULL, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(tuners); i++)
                if (strcmp(tuners[i].name, name) == 0)
                        return &tuners[i];
        return NULL;
}
