/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one place that teaches g_autoptr() about foreign types (json-c now,
 * libvirt when the libvirt backend lands), so that every module frees them
 * the same way.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_tokener, json_tokener_free)

/* json_object_put() as a GDestroyNotify. */
static inline void
vt_json_object_unref(gpointer object)
{
        json_object_put(object);
}
