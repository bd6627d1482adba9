/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A running domain's virtio-mem device, read from its XML and written back resized (issue 17). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A device's XML past this is not kept (libvirt writes about 500 bytes). */
#define VT_LIBVIRT_MEMDEV_XML_MAX (16 * 1024)
/* At most this many other virtio-mem devices are named. */
#define VT_LIBVIRT_MEMDEV_OTHERS_MAX 8

/**
 * VtLibvirtMemdev:
 * @present: the domain has a usable `<memory model='virtio-mem'>`; the
 *     fields below are valid
 * @alias: its `<alias name>`, or %NULL (a live domain always has one)
 * @size_bytes: `<target><size>`: the device's maximum
 * @block_bytes: `<target><block>`: a power of two, at least 1 KiB
 * @requested_bytes: `<target><requested>`: what the guest was asked to
 *     plug
 * @current_bytes: `<target><current>`: what is plugged (0 if absent)
 * @xml_head: the device as libvirt wrote it, up to the value of its
 *     `<requested unit='KiB'>`
 * @xml_tail: the rest, from `</requested>`
 *
 * The virtio-mem device vmtided drives: the first in `<devices>`. libvirt
 * finds the device to update by its whole XML, so the device is kept as
 * written (re-serialized: comments dropped, attributes quoted alike) and
 * vt_libvirt_memdev_format_update() puts a new requested size in it.
 */
typedef struct {
        gboolean present;
        char *alias;
        guint64 size_bytes;
        guint64 block_bytes;
        guint64 requested_bytes;
        guint64 current_bytes;
        char *xml_head;
        char *xml_tail;
} VtLibvirtMemdev;

void vt_libvirt_memdev_clear(VtLibvirtMemdev *memdev);
void vt_libvirt_memdev_copy(const VtLibvirtMemdev *memdev, VtLibvirtMemdev *ret_copy);
char *vt_libvirt_memdev_format_update(const VtLibvirtMemdev *memdev, guint64 requested_bytes,
                                      GError **error);

/*
 * The domain parser's part (host/libvirt/libvirt-domain.c feeds it the
 * elements under /domain/devices/memory, depth relative to <memory> = 0).
 */
typedef struct _VtLibvirtMemdevParser VtLibvirtMemdevParser;

VtLibvirtMemdevParser *vt_libvirt_memdev_parser_new(void);
void vt_libvirt_memdev_parser_free(VtLibvirtMemdevParser *p);
void vt_libvirt_memdev_parser_start(VtLibvirtMemdevParser *p, guint depth, const char *element_name,
                                    const char **names, const char **values);
void vt_libvirt_memdev_parser_text(VtLibvirtMemdevParser *p, const char *text, gsize length);
void vt_libvirt_memdev_parser_end(VtLibvirtMemdevParser *p, guint depth, const char *element_name);
guint64 vt_libvirt_memdev_parser_get_devices_bytes(VtLibvirtMemdevParser *p);
void vt_libvirt_memdev_parser_steal(VtLibvirtMemdevParser *p, VtLibvirtMemdev *ret_memdev,
                                    char **ret_problem, char **ret_others);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtLibvirtMemdevParser, vt_libvirt_memdev_parser_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VtLibvirtMemdev, vt_libvirt_memdev_clear)

G_END_DECLS
