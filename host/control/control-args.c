/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a control command's arguments, with errors that name the
 * argument.
 *
 * Arguments come from clients of the control socket and are checked, never
 * trusted: a member of the wrong type or out of range is a
 * %VT_CONTROL_ERROR_GENERIC that names it, which the server sends as
 * `GenericError`. A member whose value is `null` counts as absent. The
 * optional getters leave their value untouched when the member is absent,
 * so the caller presets the default.
 */
#include "host/control/control-args.h"

#include <string.h>

/* The member @name, or %NULL when it is absent or null. */
static json_object *
args_lookup(json_object *arguments, const char *name)
{
        json_object *member = NULL;

        if (arguments == NULL || !json_object_is_type(arguments, json_type_object) ||
            !json_object_object_get_ex(arguments, name, &member))
                return NULL;
        return member;
}

static gboolean
args_set_missing(const char *name, GError **error)
{
        g_set_error(error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC, "missing argument '%s'",
                    name);
        return FALSE;
}

static gboolean
args_set_present(gboolean *ret_present, gboolean present)
{
        if (ret_present != NULL)
                *ret_present = present;
        return TRUE;
}

/**
 * vt_control_args_check:
 * @arguments: (nullable): a command's arguments
 * @allowed: (array zero-terminated=1): the members the command knows
 * @error: %VT_CONTROL_ERROR_GENERIC naming the first unknown member
 *
 * Returns: %TRUE if @arguments has no member outside @allowed
 */
gboolean
vt_control_args_check(json_object *arguments, const char *const *allowed, GError **error)
{
        g_return_val_if_fail(allowed != NULL, FALSE);

        if (arguments == NULL)
                return TRUE;
        json_object_object_foreach (arguments, key, value) {
                (void)value;
                if (!g_strv_contains(allowed, key)) {
                        g_set_error(error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                                    "unknown argument '%s'", key);
                        return FALSE;
                }
        }
        return TRUE;
}

/**
 * vt_control_args_get_optional_string:
 * @arguments: (nullable): a command's arguments
 * @name: the member
 * @ret_value: (out) (transfer none): the string, borrowed from
 *     @arguments; untouched when absent
 * @ret_present: (out) (optional): whether the member was given
 * @error: %VT_CONTROL_ERROR_GENERIC when it is not a string (or holds a
 *     NUL byte)
 *
 * Returns: %TRUE unless the member is there and wrong
 */
gboolean
vt_control_args_get_optional_string(json_object *arguments, const char *name,
                                    const char **ret_value, gboolean *ret_present, GError **error)
{
        json_object *member;
        const char *value;

        g_return_val_if_fail(name != NULL && ret_value != NULL, FALSE);

        member = args_lookup(arguments, name);
        if (member == NULL)
                return args_set_present(ret_present, FALSE);
        value =
            json_object_is_type(member, json_type_string) ? json_object_get_string(member) : NULL;
        if (value == NULL || strlen(value) != (size_t)json_object_get_string_len(member)) {
                g_set_error(error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                            "argument '%s' must be a string", name);
                return FALSE;
        }
        *ret_value = value;
        return args_set_present(ret_present, TRUE);
}

/**
 * vt_control_args_get_string:
 * @arguments: (nullable): a command's arguments
 * @name: the member
 * @error: %VT_CONTROL_ERROR_GENERIC when it is missing or not a string
 *
 * Returns: (transfer none): the string, borrowed from @arguments, or
 *     %NULL on error
 */
const char *
vt_control_args_get_string(json_object *arguments, const char *name, GError **error)
{
        const char *value = NULL;
        gboolean present = FALSE;

        if (!vt_control_args_get_optional_string(arguments, name, &value, &present, error))
                return NULL;
        if (!present) {
                args_set_missing(name, error);
                return NULL;
        }
        return value;
}

/* An integer member as a signed value; FALSE (with @error) if it is none
 * or lies outside [@min, @max]. @unit follows the range in the error. */
static gboolean
args_parse_int(json_object *member, const char *name, gint64 min, gint64 max, const char *unit,
               gint64 *ret_value, GError **error)
{
        gint64 value;

        if (!json_object_is_type(member, json_type_int)) {
                g_set_error(error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                            "argument '%s' must be an integer", name);
                return FALSE;
        }
        value = json_object_get_int64(member);
        /* json-c clamps integers past G_MAXINT64 to it. */
        if (value < min || value > max ||
            (value == G_MAXINT64 && json_object_get_uint64(member) > (guint64)G_MAXINT64)) {
                g_set_error(error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                            "argument '%s' must be from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                            "%s",
                            name, min, max, unit);
                return FALSE;
        }
        *ret_value = value;
        return TRUE;
}

/**
 * vt_control_args_get_optional_int:
 * @arguments: (nullable): a command's arguments
 * @name: the member
 * @min: the smallest value accepted
 * @max: the largest value accepted
 * @ret_value: (out): the value; untouched when absent
 * @ret_present: (out) (optional): whether the member was given
 * @error: %VT_CONTROL_ERROR_GENERIC when it is not an integer in range
 *
 * Returns: %TRUE unless the member is there and wrong
 */
gboolean
vt_control_args_get_optional_int(json_object *arguments, const char *name, gint64 min, gint64 max,
                                 gint64 *ret_value, gboolean *ret_present, GError **error)
{
        json_object *member;

        g_return_val_if_fail(name != NULL && ret_value != NULL, FALSE);
        g_return_val_if_fail(min <= max, FALSE);

        member = args_lookup(arguments, name);
        if (member == NULL)
                return args_set_present(ret_present, FALSE);
        if (!args_parse_int(member, name, min, max, "", ret_value, error))
                return FALSE;
        return args_set_present(ret_present, TRUE);
}

/**
 * vt_control_args_get_int:
 * @arguments: (nullable): a command's arguments
 * @name: the member
 * @min: the smallest value accepted
 * @max: the largest value accepted
 * @ret_value: (out): the value, written on success
 * @error: %VT_CONTROL_ERROR_GENERIC when it is missing or not an integer
 *     in range
 *
 * Returns: %TRUE on success
 */
gboolean
vt_control_args_get_int(json_object *arguments, const char *name, gint64 min, gint64 max,
                        gint64 *ret_value, GError **error)
{
        gboolean present = FALSE;

        if (!vt_control_args_get_optional_int(arguments, name, min, max, ret_value, &present,
                                              error))
                return FALSE;
        return present ? TRUE : args_set_missing(name, error);
}

/**
 * vt_control_args_get_optional_bool:
 * @arguments: (nullable): a command's arguments
 * @name: the member
 * @ret_value: (out): the value; untouched when absent
 * @ret_present: (out) (optional): whether the member was given
 * @error: %VT_CONTROL_ERROR_GENERIC when it is not a boolean
 *
 * Returns: %TRUE unless the member is there and wrong
 */
gboolean
vt_control_args_get_optional_bool(json_object *arguments, const char *name, gboolean *ret_value,
                                  gboolean *ret_present, GError **error)
{
        json_object *member;

        g_return_val_if_fail(name != NULL && ret_value != NULL, FALSE);

        member = args_lookup(arguments, name);
        if (member == NULL)
                return args_set_present(ret_present, FALSE);
        if (!json_object_is_type(member, json_type_boolean)) {
                g_set_error(error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                            "argument '%s' must be a boolean", name);
                return FALSE;
        }
        *ret_value = json_object_get_boolean(member) ? TRUE : FALSE;
        return args_set_present(ret_present, TRUE);
}

/**
 * vt_control_args_get_bool:
 * @arguments: (nullable): a command's arguments
 * @name: the member
 * @ret_value: (out): the value, written on success
 * @error: %VT_CONTROL_ERROR_GENERIC when it is missing or not a boolean
 *
 * Returns: %TRUE on success
 */
gboolean
vt_control_args_get_bool(json_object *arguments, const char *name, gboolean *ret_value,
                         GError **error)
{
        gboolean present = FALSE;

        if (!vt_control_args_get_optional_bool(arguments, name, ret_value, &present, error))
                return FALSE;
        return present ? TRUE : args_set_missing(name, error);
}

/**
 * vt_control_args_get_optional_size:
 * @arguments: (nullable): a command's arguments
 * @name: the member
 * @min: the smallest size accepted, in bytes
 * @max: the largest size accepted, in bytes, at most %G_MAXINT64
 * @ret_value: (out): the size in bytes; untouched when absent
 * @ret_present: (out) (optional): whether the member was given
 * @error: %VT_CONTROL_ERROR_GENERIC when it is not an integer number of
 *     bytes in range
 *
 * Returns: %TRUE unless the member is there and wrong
 */
gboolean
vt_control_args_get_optional_size(json_object *arguments, const char *name, guint64 min,
                                  guint64 max, guint64 *ret_value, gboolean *ret_present,
                                  GError **error)
{
        json_object *member;
        gint64 value = 0;

        g_return_val_if_fail(name != NULL && ret_value != NULL, FALSE);
        g_return_val_if_fail(min <= max && max <= (guint64)G_MAXINT64, FALSE);

        member = args_lookup(arguments, name);
        if (member == NULL)
                return args_set_present(ret_present, FALSE);
        if (!args_parse_int(member, name, (gint64)min, (gint64)max, " bytes", &value, error))
                return FALSE;
        *ret_value = (guint64)value;
        return args_set_present(ret_present, TRUE);
}

/**
 * vt_control_args_get_size:
 * @arguments: (nullable): a command's arguments
 * @name: the member
 * @min: the smallest size accepted, in bytes
 * @max: the largest size accepted, in bytes, at most %G_MAXINT64
 * @ret_value: (out): the size in bytes, written on success
 * @error: %VT_CONTROL_ERROR_GENERIC when it is missing or not an integer
 *     number of bytes in range
 *
 * Returns: %TRUE on success
 */
gboolean
vt_control_args_get_size(json_object *arguments, const char *name, guint64 min, guint64 max,
                         guint64 *ret_value, GError **error)
{
        gboolean present = FALSE;

        if (!vt_control_args_get_optional_size(arguments, name, min, max, ret_value, &present,
                                               error))
                return FALSE;
        return present ? TRUE : args_set_missing(name, error);
}
