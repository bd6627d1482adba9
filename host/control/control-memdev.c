/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest's virtio-mem device as the control socket spells it: the
 * `memdev` member of a guest in `query-guests` and `query-guest`, and the
 * data of the MEMDEV event (docs/control-protocol.md). Every figure comes
 * from QEMU or libvirt: sizes are clamped to what a JSON integer holds and
 * the id is made valid UTF-8 (a backend's fixed buffer may cut a character
 * in two), so that nothing a guest's device reports breaks a reply.
 */
#include "host/control/control-memdev.h"

static json_object *
memdev_bytes(guint64 bytes)
{
        return json_object_new_int64((gint64)MIN(bytes, (guint64)G_MAXINT64));
}

static json_object *
memdev_string(const char *text)
{
        g_autofree char *valid = NULL;

        if (text == NULL)
                return NULL;
        valid = g_utf8_make_valid(text, -1);
        return json_object_new_string(valid);
}

/**
 * vt_control_memdev_to_json:
 * @memdev: a guest's device
 *
 * The `memdev` member of a guest: `{"id", "block_size", "plugged",
 * "requested", "max", "strategy", "unplug_stuck"}`.
 *
 * Returns: (transfer full) (nullable): the object; %NULL when the guest has
 *     no device (the member is then left out)
 */
json_object *
vt_control_memdev_to_json(const VtControlMemdev *memdev)
{
        json_object *o;

        g_return_val_if_fail(memdev != NULL, NULL);

        if (!memdev->present)
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "id", memdev_string(memdev->id));
        json_object_object_add(o, "block_size", memdev_bytes(memdev->block_size));
        json_object_object_add(o, "plugged", memdev_bytes(memdev->plugged));
        json_object_object_add(o, "requested", memdev_bytes(memdev->requested));
        json_object_object_add(o, "max", memdev_bytes(memdev->max));
        json_object_object_add(o, "strategy", memdev_string(memdev->strategy));
        json_object_object_add(o, "unplug_stuck", json_object_new_boolean(memdev->unplug_stuck));
        return o;
}

/**
 * vt_control_memdev_event_new:
 * @guest: the guest's name
 * @memdev: its device now
 *
 * The data of a MEMDEV event: `{"guest", "present", "id", "plugged",
 * "requested", "max"}`; a device that went has `present` false, `id`
 * null and zero sizes.
 *
 * Returns: (transfer full): the event's data
 */
json_object *
vt_control_memdev_event_new(const char *guest, const VtControlMemdev *memdev)
{
        json_object *o;
        gboolean present;

        g_return_val_if_fail(guest != NULL, NULL);
        g_return_val_if_fail(memdev != NULL, NULL);

        present = memdev->present;
        o = json_object_new_object();
        json_object_object_add(o, "guest", memdev_string(guest));
        json_object_object_add(o, "present", json_object_new_boolean(present));
        json_object_object_add(o, "id", present ? memdev_string(memdev->id) : NULL);
        json_object_object_add(o, "plugged", memdev_bytes(present ? memdev->plugged : 0));
        json_object_object_add(o, "requested", memdev_bytes(present ? memdev->requested : 0));
        json_object_object_add(o, "max", memdev_bytes(present ? memdev->max : 0));
        return o;
}
