/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtide's per-domain policy in libvirt domain <metadata> (issue #6). */
#pragma once

#include <glib.h>

#include "balloon/balloon-policy.h"

G_BEGIN_DECLS

/* The namespace of vmtide's element in a domain's <metadata>. */
#define VT_LIBVIRT_METADATA_URI "https://vmtide.org/xmlns/policy/1"
/* The prefix vmtide writes it with (virDomainSetMetadata's key). */
#define VT_LIBVIRT_METADATA_PREFIX "vmtide"

/**
 * VtLibvirtPolicy:
 * @balloon: the balloon policy (zero fields: the policy's defaults)
 * @ksm_opt_out: leave the domain's memory out of KSM decisions
 *
 * What a domain's `<vmtide:policy>` element says.
 */
typedef struct {
        VtBalloonGuestConfig balloon;
        gboolean ksm_opt_out;
} VtLibvirtPolicy;

gboolean vt_libvirt_policy_parse(const char *xml, VtLibvirtPolicy *ret_policy, GError **error);
char *vt_libvirt_policy_format(const VtLibvirtPolicy *policy);

gboolean vt_libvirt_parse_scaled(const char *value, const char *unit, guint64 *ret_bytes,
                                 GError **error);

void vt_libvirt_set_markup_error(GMarkupParseContext *context, GError **error, const char *document,
                                 const char *format, ...) G_GNUC_PRINTF(4, 5);

G_END_DECLS
