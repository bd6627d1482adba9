/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A guest's virtio-mem device on the control socket: the `memdev` member and the MEMDEV event. */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

/**
 * VtControlMemdev:
 * @present: the guest has a virtio-mem device; the fields below are valid
 * @id: (nullable): the device's id, as its backend read it (any bytes:
 *     made valid UTF-8 on the way out)
 * @block_size: its block size, bytes
 * @plugged: what is plugged now, bytes
 * @requested: what the guest was asked to plug, bytes
 * @max: the device's maximum, bytes
 * @strategy: (nullable): the guest's strategy by name ("virtio-mem-first")
 * @unplug_stuck: an unplug made no progress past its timeout
 *
 * One guest's virtio-mem device, in plain figures (the daemon fills it
 * from its VtGuestMemdev), so that the reply and the event spell it once.
 */
typedef struct {
        gboolean present;
        const char *id;
        guint64 block_size;
        guint64 plugged;
        guint64 requested;
        guint64 max;
        const char *strategy;
        gboolean unplug_stuck;
} VtControlMemdev;

json_object *vt_control_memdev_to_json(const VtControlMemdev *memdev);
json_object *vt_control_memdev_event_new(const char *guest, const VtControlMemdev *memdev);

G_END_DECLS
