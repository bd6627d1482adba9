/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What vmtided needs from a running libvirt domain's XML (issue #6). */
#pragma once

#include <glib.h>

#include "host/libvirt/libvirt-memdev.h"

G_BEGIN_DECLS

/* The virtio-serial port name of the vmtide agent channel. */
#define VT_LIBVIRT_AGENT_CHANNEL "org.vmtide.agent.0"

/**
 * VtLibvirtDomainInfo:
 * @name: `<name>`
 * @uuid: `<uuid>`, as written
 * @max_bytes: the boot memory: `<memory>` (its `unit`, default KiB) less
 *     the memory devices' sizes, which libvirt counts in it
 * @memory_devices_bytes: the sizes of the `<devices><memory>` (every
 *     model; 0 when there are none)
 * @current_bytes: `<currentMemory>`, 0 if absent
 * @has_balloon: the domain has a `<memballoon>` whose model is not `none`
 *     (virtio, virtio-transitional, virtio-non-transitional, xen, ...)
 * @stats_period_s: `<memballoon><stats period='N'/>`, 0 if absent (QEMU
 *     does not poll the guest's memory statistics)
 * @free_page_reporting: `<memballoon freePageReporting='on'>`
 * @agent_path: the host socket of the vmtide agent channel (QEMU listens
 *     on it), or %NULL
 * @agent_problem: %NULL, or why a channel named %VT_LIBVIRT_AGENT_CHANNEL
 *     exists but vmtided cannot use it (not a Unix socket, QEMU connects
 *     out, no path); always %NULL when @agent_path is set
 * @memdev: the first `<devices><memory model='virtio-mem'>`, if usable
 *     (`@memdev.present`; host/libvirt/libvirt-memdev.h)
 * @memdev_problem: %NULL, or why the first virtio-mem device is not usable
 *     (a missing or malformed size, a bad block size, ...)
 * @memdev_others: %NULL, or the virtio-mem devices past the first, which
 *     vmtided does not drive, named for the log
 *
 * What vmtided learns from a running domain's XML. Clear it with
 * vt_libvirt_domain_info_clear() (or declare it `g_auto(VtLibvirtDomainInfo)`).
 */
typedef struct {
        char *name;
        char *uuid;
        guint64 max_bytes;
        guint64 memory_devices_bytes;
        guint64 current_bytes;
        gboolean has_balloon;
        guint stats_period_s;
        gboolean free_page_reporting;
        char *agent_path;
        char *agent_problem;
        VtLibvirtMemdev memdev;
        char *memdev_problem;
        char *memdev_others;
} VtLibvirtDomainInfo;

gboolean vt_libvirt_domain_parse(const char *xml, VtLibvirtDomainInfo *ret_info, GError **error);
void vt_libvirt_domain_info_clear(VtLibvirtDomainInfo *info);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VtLibvirtDomainInfo, vt_libvirt_domain_info_clear)

G_END_DECLS
