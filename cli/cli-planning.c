/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What `capacity` and `risk` share: the recorded history read for planning, guests' figures. */
#include "cli/cli-planning.h"

#include <unistd.h>

#include "host/recorder/recorder-reader.h"

/**
 * vt_cli_history_read:
 * @ret_history: (out): filled; clear it with vt_cli_history_clear()
 * @path: the history directory (or one segment)
 * @since_wall_us: the window's start, wall-clock µs
 *
 * Reads the window of a recorded history into series for planning. A
 * history that cannot be opened leaves @history %NULL; damage is counted
 * and read past. Either way @note says what happened, for the output:
 * planning goes on with the current values where there is no history.
 */
void
vt_cli_history_read(VtCliHistory *ret_history, const char *path, gint64 since_wall_us)
{
        g_autoptr(VtRecorderReader) reader = NULL;
        g_autoptr(VtPlanningHistory) history = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *first_damage = NULL;

        *ret_history = (VtCliHistory){.path = g_strdup(path)};
        reader = vt_recorder_reader_new(path, &error);
        if (reader == NULL) {
                ret_history->note =
                    g_strdup_printf("no history read (%s): current values only", error->message);
                return;
        }
        vt_recorder_reader_set_range(reader, since_wall_us, G_MAXINT64);
        history = vt_planning_history_new(since_wall_us, vt_cli_page_size());
        for (;;) {
                g_autoptr(VtRecorderRecord) record = NULL;
                g_autoptr(GError) damage = NULL;

                if (vt_recorder_reader_next(reader, &record, &damage)) {
                        vt_planning_history_add(history, record);
                        continue;
                }
                if (damage == NULL)
                        break;
                if (ret_history->n_damaged++ == 0)
                        first_damage = g_strdup(damage->message);
                /* The reader goes on past damage; a bound in case it cannot. */
                if (ret_history->n_damaged > 10000)
                        break;
        }
        ret_history->note =
            g_strdup_printf("%u ticks and %u KSM steps from %s%s%s%s", history->n_ticks,
                            history->n_ksm, path, history->has_policy ? ", policy " : "",
                            history->has_policy ? vt_cli_or_dash(history->policy_name) : "",
                            first_damage != NULL ? "; read past damage: " : "");
        if (first_damage != NULL) {
                char *note = g_strconcat(ret_history->note, first_damage, NULL);

                g_free(ret_history->note);
                ret_history->note = note;
        }
        ret_history->history = g_steal_pointer(&history);
}

/**
 * vt_cli_history_clear:
 * @history: what vt_cli_history_read() filled
 */
void
vt_cli_history_clear(VtCliHistory *history)
{
        g_clear_pointer(&history->path, g_free);
        g_clear_pointer(&history->history, vt_planning_history_free);
        g_clear_pointer(&history->note, g_free);
}

/**
 * vt_cli_planning_query:
 * @cli: an invocation
 * @command: a query without arguments
 * @ret_status: (out): the exit status, written when %NULL is returned
 *
 * Runs @command; unlike vt_cli_call_or_finish() nothing is printed with
 * `--json`: planning prints its own answer, not the daemon's.
 *
 * Returns: (transfer full) (nullable): the answer, or %NULL once the
 *     error is printed
 */
json_object *
vt_cli_planning_query(VtCli *cli, const char *command, int *ret_status)
{
        g_autoptr(GError) error = NULL;
        json_object *reply = vt_cli_call(cli, command, NULL, &error);

        if (reply == NULL)
                *ret_status = vt_cli_fail(error);
        return reply;
}

/**
 * vt_cli_page_size:
 *
 * Returns: this machine's page size, bytes (4096 when unknown)
 */
guint64
vt_cli_page_size(void)
{
        long size = sysconf(_SC_PAGESIZE);

        return size > 0 ? (guint64)size : 4096;
}

/**
 * vt_cli_json_get_size_or:
 * @object: (nullable): a JSON value
 * @path: as for vt_cli_json_get()
 * @fallback: what a missing, null or negative member reads as
 *
 * Returns: the size there, bytes
 */
guint64
vt_cli_json_get_size_or(json_object *object, const char *path, guint64 fallback)
{
        gint64 value = 0;

        if (!vt_cli_json_get_int(object, path, &value) || value < 0)
                return fallback;
        return (guint64)value;
}

/**
 * vt_cli_guest_ceiling:
 * @guest: a guest of query-guests or query-guest
 *
 * The most a guest can hold, in the currency of vt_cli_guest_memory(): its
 * boot memory (`max`), plus its virtio-mem device's maximum when vmtided
 * drives the device (a strategy other than `balloon-only`).
 *
 * Returns: bytes; 0 when the daemon did not say
 */
guint64
vt_cli_guest_ceiling(json_object *guest)
{
        guint64 max = vt_cli_json_get_size_or(guest, "max", 0);
        json_object *memdev = vt_cli_json_get(guest, "memdev");

        if (!json_object_is_type(memdev, json_type_object) ||
            g_strcmp0(vt_cli_json_get_string(memdev, "strategy"), "balloon-only") == 0)
                return max;
        return max + vt_cli_json_get_size_or(memdev, "max", 0);
}

/**
 * vt_cli_json_get_int_or:
 * @object: (nullable): a JSON value
 * @path: as for vt_cli_json_get()
 * @fallback: what a missing or null member reads as
 *
 * Returns: the integer there
 */
gint64
vt_cli_json_get_int_or(json_object *object, const char *path, gint64 fallback)
{
        gint64 value = 0;

        return vt_cli_json_get_int(object, path, &value) ? value : fallback;
}

/**
 * vt_cli_json_new_size:
 * @bytes: a size
 *
 * Returns: (transfer full): it as a JSON integer, capped at G_MAXINT64
 */
json_object *
vt_cli_json_new_size(guint64 bytes)
{
        return json_object_new_int64((gint64)MIN(bytes, (guint64)G_MAXINT64));
}
