/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A guest that is a libvirt domain, driven through libvirt's API. */
#pragma once

#include <libvirt/libvirt.h>

#include "host/guest/guest.h"

G_BEGIN_DECLS

#define VT_TYPE_GUEST_LIBVIRT (vt_guest_libvirt_get_type())
G_DECLARE_FINAL_TYPE(VtGuestLibvirt, vt_guest_libvirt, VT, GUEST_LIBVIRT, VtGuest)

VtGuest *vt_guest_libvirt_new(virDomainPtr domain, const char *pid_dir, guint stats_interval_s);
const char *vt_guest_libvirt_get_uuid(VtGuestLibvirt *guest);
void vt_guest_libvirt_set_domain(VtGuestLibvirt *guest, virDomainPtr domain);
unsigned int vt_guest_libvirt_get_domain_id(VtGuestLibvirt *guest);
void vt_guest_libvirt_balloon_changed(VtGuestLibvirt *guest, guint64 actual_kib);
void vt_guest_libvirt_memdev_size_changed(VtGuestLibvirt *guest, const char *alias,
                                          guint64 size_kib);
void vt_guest_libvirt_reload_policy(VtGuestLibvirt *guest);
void vt_guest_libvirt_stopped(VtGuestLibvirt *guest, const char *why);
void vt_guest_libvirt_job_completed(VtGuestLibvirt *guest, virTypedParameterPtr params, int n);

G_END_DECLS
