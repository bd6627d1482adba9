/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A PSI trigger: a callback on the main loop each time memory stalls pass a threshold. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The kernel's bounds on a trigger's window (kernel/sched/psi.c). */
#define VT_PSI_TRIGGER_WINDOW_MIN_US (500 * G_TIME_SPAN_MILLISECOND)
#define VT_PSI_TRIGGER_WINDOW_MAX_US (10 * G_TIME_SPAN_SECOND)
/* Without CAP_SYS_RESOURCE a window must be a multiple of this. */
#define VT_PSI_TRIGGER_UNPRIVILEGED_WINDOW_US (2 * G_TIME_SPAN_SECOND)

/**
 * VtPsiTriggerSpec:
 * @full: a "full" trigger (all non-idle tasks stalled) instead of "some"
 *     (at least one task stalled)
 * @threshold_us: stall time within the window that fires the trigger
 * @window_us: the window, VT_PSI_TRIGGER_WINDOW_MIN_US to _MAX_US
 *
 * A trigger as the kernel takes it: "some 150000 2000000" fires when tasks
 * stalled on memory for 150 ms within any 2 s.
 */
typedef struct {
        gboolean full;
        gint64 threshold_us;
        gint64 window_us;
} VtPsiTriggerSpec;

typedef struct _VtPsiTrigger VtPsiTrigger;

/**
 * VtPsiTriggerFunc:
 * @trigger: the trigger
 * @error: (nullable): %NULL when the trigger fired; set when the kernel
 *     dropped it (the trigger is disarmed and stays silent)
 * @user_data: as given to vt_psi_trigger_new()
 *
 * Called from the main context the trigger was created in. It may free the
 * trigger.
 */
typedef void (*VtPsiTriggerFunc)(VtPsiTrigger *trigger, const GError *error, gpointer user_data);

gboolean vt_psi_trigger_spec_parse(const char *text, VtPsiTriggerSpec *ret_spec, GError **error);
char *vt_psi_trigger_spec_to_string(const VtPsiTriggerSpec *spec);

VtPsiTrigger *vt_psi_trigger_new(const char *path, const char *spec, VtPsiTriggerFunc func,
                                 gpointer user_data, GError **error);
void vt_psi_trigger_free(VtPsiTrigger *trigger);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtPsiTrigger, vt_psi_trigger_free)

guint64 vt_psi_trigger_get_n_fired(VtPsiTrigger *trigger);
const char *vt_psi_trigger_get_path(VtPsiTrigger *trigger);

G_END_DECLS
