/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What QEMU's `query-migrate` and `query-dirty-rate` replies say, in
 * vmtide's units (bytes, bytes per second, microseconds). No I/O.
 *
 * `query-migrate` (QEMU 7.2) answers `{}` before any migration, then
 * `status` and, once RAM moves, a `ram` object:
 *
 *   transferred, remaining, total   bytes
 *   dirty-sync-count                bitmap syncs: 1 during the first full
 *                                   copy, one more per pass after it
 *   dirty-pages-rate                pages per second (× page-size)
 *   mbps                            megabits per second, a double
 *   page-size                       bytes (4096 on x86)
 *
 * with `total-time` (ms since the start), `expected-downtime` (ms, while
 * active), `downtime` (ms, once completed) and `error-desc` (failed).
 * A member missing or of the wrong type reads as 0: QEMU leaves out what
 * it does not know yet; only a status that is not a string fails.
 *
 * `query-dirty-rate` answers `status` (`unstarted`, `measuring`,
 * `measured`), `calc-time` (s) and, once measured, `dirty-rate` in MiB/s,
 * an integer: QEMU 7.2 rounds down to whole MiB/s.
 */
#include <string.h>

#include "host/qmp-direct/qmp-direct-guest-private.h"

#define MIB (G_GUINT64_CONSTANT(1) << 20)

static const struct {
        const char *name;
        VtMigrateStatus status;
} statuses[] = {
    {"none", VT_MIGRATE_STATUS_NONE},
    {"setup", VT_MIGRATE_STATUS_SETUP},
    {"active", VT_MIGRATE_STATUS_ACTIVE},
    /* Still under way: the guest runs on the source until it ends. */
    {"cancelling", VT_MIGRATE_STATUS_ACTIVE},
    {"postcopy-active", VT_MIGRATE_STATUS_ACTIVE},
    {"postcopy-paused", VT_MIGRATE_STATUS_ACTIVE},
    {"postcopy-recover", VT_MIGRATE_STATUS_ACTIVE},
    {"colo", VT_MIGRATE_STATUS_ACTIVE},
    {"wait-unplug", VT_MIGRATE_STATUS_ACTIVE},
    /* The guest is stopped for the last copy. */
    {"pre-switchover", VT_MIGRATE_STATUS_STOPPED},
    {"device", VT_MIGRATE_STATUS_STOPPED},
    {"completed", VT_MIGRATE_STATUS_COMPLETED},
    {"failed", VT_MIGRATE_STATUS_FAILED},
    {"cancelled", VT_MIGRATE_STATUS_CANCELLED},
};

/* Member @name as a non-negative number (integer or double), else 0. */
static double
json_get_number(json_object *object, const char *name)
{
        json_object *member = NULL;
        double value;

        if (object == NULL || !json_object_object_get_ex(object, name, &member))
                return 0;
        if (json_object_is_type(member, json_type_int)) {
                if (json_object_get_int64(member) < 0)
                        return 0;
                return (double)json_object_get_uint64(member);
        }
        if (!json_object_is_type(member, json_type_double))
                return 0;
        value = json_object_get_double(member);
        return value > 0 && value < 1e300 ? value : 0;
}

static guint64
clamp_u64(double value)
{
        return value >= 18446744073709551615.0 ? G_MAXUINT64 : (guint64)value;
}

/* Milliseconds to microseconds, clamped. */
static gint64
ms_to_us(double ms)
{
        double us = ms * 1000.0;

        return us >= (double)G_MAXINT64 ? G_MAXINT64 : (gint64)us;
}

static VtMigrateStatus
status_from_string(const char *name)
{
        for (gsize i = 0; i < G_N_ELEMENTS(statuses); i++) {
                if (strcmp(statuses[i].name, name) == 0)
                        return statuses[i].status;
        }
        /* A status a later QEMU added: under way, not final. */
        return VT_MIGRATE_STATUS_ACTIVE;
}

/**
 * vt_guest_qmp_parse_migrate:
 * @reply: `query-migrate`'s return value
 * @ret_progress: (out): filled on success
 * @error: %VT_QMP_ERROR_PROTOCOL when @reply is not an object or its
 *     status not a string
 *
 * Returns: %TRUE if @ret_progress was filled
 */
gboolean
vt_guest_qmp_parse_migrate(json_object *reply, VtMigrateProgress *ret_progress, GError **error)
{
        VtMigrateProgress p = {0};
        json_object *status = NULL, *ram = NULL, *desc = NULL;
        double page_size;

        if (!json_object_is_type(reply, json_type_object)) {
                g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                            "QMP 'query-migrate' replied something not an object");
                return FALSE;
        }
        if (json_object_object_get_ex(reply, "status", &status)) {
                if (!json_object_is_type(status, json_type_string)) {
                        g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "QMP 'query-migrate' replied a status not a string");
                        return FALSE;
                }
                p.status = status_from_string(json_object_get_string(status));
        }
        if (json_object_object_get_ex(reply, "ram", &ram) &&
            json_object_is_type(ram, json_type_object)) {
                page_size = json_get_number(ram, "page-size");
                if (page_size <= 0)
                        page_size = 4096;
                p.total_bytes = clamp_u64(json_get_number(ram, "total"));
                p.transferred_bytes = clamp_u64(json_get_number(ram, "transferred"));
                p.remaining_bytes = clamp_u64(json_get_number(ram, "remaining"));
                p.pass = (guint)MIN(json_get_number(ram, "dirty-sync-count"), (double)G_MAXUINT);
                p.dirty_rate = clamp_u64(json_get_number(ram, "dirty-pages-rate") * page_size);
                /* mbps: megabits (10^6) per second. */
                p.throughput = clamp_u64(json_get_number(ram, "mbps") * 1e6 / 8);
        }
        p.elapsed_us = ms_to_us(json_get_number(reply, "total-time"));
        if (p.status == VT_MIGRATE_STATUS_COMPLETED)
                p.downtime_us = ms_to_us(json_get_number(reply, "downtime"));
        else
                p.downtime_us = ms_to_us(json_get_number(reply, "expected-downtime"));
        if (p.status == VT_MIGRATE_STATUS_FAILED &&
            json_object_object_get_ex(reply, "error-desc", &desc) &&
            json_object_is_type(desc, json_type_string))
                g_strlcpy(p.error, json_object_get_string(desc), sizeof(p.error));
        *ret_progress = p;
        return TRUE;
}

/**
 * vt_guest_qmp_parse_dirty_rate:
 * @reply: `query-dirty-rate`'s return value
 * @calc_time_s: the window asked for, seconds (a reply for another
 *     window is someone else's measurement)
 * @ret_done: (out): %TRUE once measured; %FALSE while measuring
 * @ret_rate: (out): the rate in bytes per second, when @ret_done
 * @error: %VT_QMP_ERROR_PROTOCOL for a reply of the wrong shape, or
 *     %G_IO_ERROR_FAILED when no measurement runs (`unstarted`)
 *
 * Returns: %TRUE if @ret_done was written
 */
gboolean
vt_guest_qmp_parse_dirty_rate(json_object *reply, gint64 calc_time_s, gboolean *ret_done,
                              guint64 *ret_rate, GError **error)
{
        json_object *status = NULL;
        const char *name;
        guint64 rate = 0, calc_time = 0;

        if (!json_object_object_get_ex(reply, "status", &status) ||
            !json_object_is_type(status, json_type_string)) {
                g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                            "QMP 'query-dirty-rate' replied without a status");
                return FALSE;
        }
        name = json_object_get_string(status);
        if (strcmp(name, "measuring") == 0) {
                *ret_done = FALSE;
                return TRUE;
        }
        if (strcmp(name, "measured") != 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "QMP 'query-dirty-rate': no measurement under way (status '%s')", name);
                return FALSE;
        }
        if (!vt_guest_qmp_json_get_size(reply, "dirty-rate", &rate) ||
            !vt_guest_qmp_json_get_size(reply, "calc-time", &calc_time)) {
                g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                            "QMP 'query-dirty-rate' replied 'measured' without a dirty-rate "
                            "or calc-time");
                return FALSE;
        }
        if (calc_time != (guint64)calc_time_s) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                            "QMP 'query-dirty-rate' measured over %" G_GUINT64_FORMAT
                            " s, not the %" G_GINT64_FORMAT " s asked: another measurement",
                            calc_time, calc_time_s);
                return FALSE;
        }
        *ret_done = TRUE;
        *ret_rate = rate >= G_MAXUINT64 / MIB ? G_MAXUINT64 : rate * MIB;
        return TRUE;
}
