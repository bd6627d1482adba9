/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What history, replay and plot share: finding the history, times, reading past damage. */
#include "cli/cli-recorder.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

/* "30m", "2h", "1d", "90s": a duration in µs, or -1. */
static gint64
parse_ago(const char *text)
{
        char *end = NULL;
        guint64 n;
        gint64 unit;

        if (!g_ascii_isdigit(text[0]))
                return -1;
        n = g_ascii_strtoull(text, &end, 10);
        if (end == text || end[0] == '\0' || end[1] != '\0' || n > 100000)
                return -1;
        switch (end[0]) {
        case 's':
                unit = G_USEC_PER_SEC;
                break;
        case 'm':
                unit = 60 * G_USEC_PER_SEC;
                break;
        case 'h':
                unit = G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC;
                break;
        case 'd':
                unit = G_GINT64_CONSTANT(86400) * G_USEC_PER_SEC;
                break;
        default:
                return -1;
        }
        return (gint64)n * unit;
}

/**
 * vt_cli_time_parse:
 * @text: `YYYY-MM-DD HH:MM[:SS]` (local time), ISO 8601 with `T` and a
 *     zone, `@SECONDS` since the epoch, or a time ago (`30m`, `2h`, `1d`,
 *     `90s`)
 * @now_wall_us: now, for times ago
 * @ret_wall_us: (out): the time, µs since the epoch
 * @error: where a wrong time is told
 *
 * Returns: %FALSE with @error set when @text is not a time
 */
gboolean
vt_cli_time_parse(const char *text, gint64 now_wall_us, gint64 *ret_wall_us, GError **error)
{
        g_autoptr(GTimeZone) local = g_time_zone_new_local();
        g_autoptr(GDateTime) when = NULL;
        g_autofree char *iso = NULL;
        gint64 ago = parse_ago(text);

        if (ago >= 0) {
                *ret_wall_us = now_wall_us - ago;
                return TRUE;
        }
        if (text[0] == '@' && g_ascii_isdigit(text[1])) {
                char *end = NULL;
                guint64 seconds = g_ascii_strtoull(text + 1, &end, 10);

                if (*end == '\0' && seconds < G_GUINT64_CONSTANT(1) << 40) {
                        *ret_wall_us = (gint64)seconds * G_USEC_PER_SEC;
                        return TRUE;
                }
        }
        iso = g_strdelimit(g_strdup(text), " ", 'T');
        if (strlen(iso) == 16)
                iso = g_strconcat(g_steal_pointer(&iso), ":00", NULL);
        when = g_date_time_new_from_iso8601(iso, local);
        if (when == NULL) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "invalid time '%s': 'YYYY-MM-DD HH:MM[:SS]', ISO 8601, '@SECONDS', "
                            "or a time ago ('30m', '2h', '1d')",
                            text);
                return FALSE;
        }
        *ret_wall_us =
            g_date_time_to_unix(when) * G_USEC_PER_SEC + g_date_time_get_microsecond(when);
        return TRUE;
}

/**
 * vt_cli_time_format:
 * @wall_us: µs since the epoch
 *
 * Returns: (transfer full): `YYYY-MM-DD HH:MM:SS` in local time
 */
char *
vt_cli_time_format(gint64 wall_us)
{
        g_autoptr(GDateTime) when = g_date_time_new_from_unix_local(wall_us / G_USEC_PER_SEC);

        if (when == NULL)
                return g_strdup("?");
        return g_date_time_format(when, "%Y-%m-%d %H:%M:%S");
}

/**
 * vt_cli_history_open:
 * @path: a history's directory or one segment file
 * @error: where a missing or unreadable history is told
 *
 * Returns: (transfer full): a reader, or %NULL with @error set, naming @path
 */
VtRecorderReader *
vt_cli_history_open(const char *path, GError **error)
{
        g_autoptr(GError) local_error = NULL;
        VtRecorderReader *reader;

        if (g_access(path, F_OK) != 0) {
                int saved = errno;

                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                            "no history at '%s': %s (vmtided's is "
                            "in " VT_RECORDER_DIR_DEFAULT " unless configured)",
                            path, g_strerror(saved));
                return NULL;
        }
        reader = vt_recorder_reader_new(path, &local_error);
        if (reader == NULL) {
                g_propagate_prefixed_error(error, g_steal_pointer(&local_error),
                                           "cannot read the history at '%s': ", path);
                return NULL;
        }
        if (vt_recorder_reader_get_n_segments(reader) == 0) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                            "no history at '%s': no segment (vmtide-*.vtrec) in it", path);
                vt_recorder_reader_free(reader);
                return NULL;
        }
        return reader;
}

/**
 * vt_cli_history_next:
 * @reader: a reader
 * @ret_record: (out) (transfer full): the next record
 * @n_damaged: (inout): damage seen so far
 *
 * The next record; damage is told on stderr with the reader's message
 * (file and offset), and reading goes on past it.
 *
 * Returns: %FALSE at the end
 */
gboolean
vt_cli_history_next(VtRecorderReader *reader, VtRecorderRecord **ret_record, guint *n_damaged)
{
        for (;;) {
                g_autoptr(GError) damage = NULL;

                if (vt_recorder_reader_next(reader, ret_record, &damage))
                        return TRUE;
                if (damage == NULL)
                        return FALSE;
                fprintf(stderr, "vmtide: %s; reading on\n", damage->message);
                (*n_damaged)++;
        }
}
