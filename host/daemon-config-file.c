/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtided's configuration file as bytes and lines, before GKeyFile reads
 * it (daemon-config.c).
 *
 * Theory of operation: the file is untrusted input. It must be a regular
 * file of at most VT_DAEMON_CONFIG_SIZE_MAX bytes, read with that bound:
 * a path to /dev/zero, a FIFO or a runaway log is refused before it costs
 * the daemon its memory or blocks it. GKeyFile then hides three things a
 * person should see, so a scan of the text reads it first, line by line as
 * GKeyFile will (GLib 2.74's rules, checked by tests/test-host-config.c):
 * a NUL byte, where GKeyFile would drop the rest of the line (`reserve =
 * 1\0G` read as 1 byte), is an error naming the line; a key given twice in
 * a group (GKeyFile keeps the last) and a group given twice (GKeyFile
 * merges them) are warnings, beside the unknown keys.
 */
#include "host/daemon-config-file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading the file ---- */

/* What @mode is when it is not a regular file, for a message. */
static const char *
file_type_describe(mode_t mode)
{
        if (S_ISDIR(mode))
                return "a directory";
        if (S_ISCHR(mode))
                return "a character device";
        if (S_ISBLK(mode))
                return "a block device";
        if (S_ISFIFO(mode))
                return "a FIFO";
        if (S_ISSOCK(mode))
                return "a socket";
        return "not a regular file";
}

static gboolean config_set_read_error(GError **error, const char *path, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

/* Sets a READ error "PATH: " + the formatted text; returns FALSE. */
static gboolean
config_set_read_error(GError **error, const char *path, const char *format, ...)
{
        g_autofree char *text = NULL;
        va_list args;

        va_start(args, format);
        text = g_strdup_vprintf(format, args);
        va_end(args);
        g_set_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_READ, "%s: %s", path,
                    text);
        return FALSE;
}

/* Refuses @st unless it is a regular file of at most VT_DAEMON_CONFIG_SIZE_MAX bytes. */
static gboolean
config_check_stat(const char *path, const struct stat *st, GError **error)
{
        if (!S_ISREG(st->st_mode))
                return config_set_read_error(error, path, "not a regular file (%s)",
                                             file_type_describe(st->st_mode));
        if (st->st_size > VT_DAEMON_CONFIG_SIZE_MAX)
                return config_set_read_error(error, path,
                                             "%" G_GINT64_FORMAT " bytes, larger than a "
                                             "configuration file may be (%d bytes)",
                                             (gint64)st->st_size, VT_DAEMON_CONFIG_SIZE_MAX);
        return TRUE;
}

/* Reads @fd to its end into @buf, or until it holds more than
 * VT_DAEMON_CONFIG_SIZE_MAX bytes; 0 or -errno. */
static int
config_read_fd(int fd, GByteArray *buf)
{
        guint8 chunk[16384];

        while (buf->len <= VT_DAEMON_CONFIG_SIZE_MAX) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                g_byte_array_append(buf, chunk, (guint)n);
        }
        return 0;
}

/**
 * vt_daemon_config_file_read:
 * @path: the configuration file
 * @ret_missing: (out): set when @path does not exist (no error then)
 * @error: %VT_DAEMON_CONFIG_ERROR_READ naming @path when it cannot be
 *     read, is not a regular file, or is larger than
 *     %VT_DAEMON_CONFIG_SIZE_MAX
 *
 * Reads @path: a regular file (checked before it is opened and again once
 * open, so a device or a FIFO is never read) of at most
 * %VT_DAEMON_CONFIG_SIZE_MAX bytes, read with that bound whatever its size
 * said.
 *
 * Returns: (transfer full) (nullable): the bytes, or %NULL when missing or
 *     on error
 */
GByteArray *
vt_daemon_config_file_read(const char *path, gboolean *ret_missing, GError **error)
{
        g_autoptr(GByteArray) buf = g_byte_array_new();
        struct stat st;
        int fd, problem;

        *ret_missing = FALSE;
        if (stat(path, &st) < 0) {
                *ret_missing = errno == ENOENT;
                if (!*ret_missing)
                        config_set_read_error(error, path, "%s", g_strerror(errno));
                return NULL;
        }
        if (!config_check_stat(path, &st, error))
                return NULL;
        /* O_NONBLOCK: a FIFO put there since the stat() must not block the open. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                config_set_read_error(error, path, "%s", g_strerror(errno));
                return NULL;
        }
        problem = fstat(fd, &st) < 0 ? -errno : 0;
        if (problem == 0 && !config_check_stat(path, &st, error)) {
                close(fd);
                return NULL;
        }
        if (problem == 0)
                problem = config_read_fd(fd, buf);
        close(fd);
        if (problem < 0) {
                config_set_read_error(error, path, "%s", g_strerror(-problem));
                return NULL;
        }
        if (buf->len > VT_DAEMON_CONFIG_SIZE_MAX) {
                config_set_read_error(error, path,
                                      "grew past the %d bytes a configuration file may have "
                                      "while it was read",
                                      VT_DAEMON_CONFIG_SIZE_MAX);
                return NULL;
        }
        return g_steal_pointer(&buf);
}

/* ---- the scan of the text ---- */

/* A group seen by the scan: where it first appears, and its keys. */
typedef struct {
        guint line;
        GHashTable *keys; /* name -> GUINT_TO_POINTER(the line it first appears on) */
} ScanGroup;

static void
scan_group_free(gpointer data)
{
        ScanGroup *group = data;

        g_hash_table_unref(group->keys);
        g_free(group);
}

/* The scan's state: the groups so far and the current one. */
typedef struct {
        const char *origin;
        GPtrArray *warnings;
        GHashTable *lines;      /* (nullable): "[GROUP] KEY" -> its last line */
        GHashTable *groups;     /* name -> ScanGroup */
        const char *group_name; /* (nullable): owned by @groups */
        ScanGroup *group;       /* (nullable): owned by @groups */
} Scan;

/* The key of @line ("  key = value", trimmed), or %NULL for another line. */
static char *
scan_line_key(const char *line)
{
        const char *eq = strchr(line, '=');

        if (line[0] == '[' || line[0] == '#' || eq == NULL)
                return NULL;
        return g_strstrip(g_strndup(line, (gsize)(eq - line)));
}

/* Enters the group of @line, a "[NAME]" line trimmed; a group seen before
 * is a warning (GKeyFile merges the two). */
static void
scan_enter_group(Scan *scan, const char *line, guint number)
{
        gsize len = strlen(line);
        g_autofree char *name = NULL;
        ScanGroup *group;

        if (len < 2 || line[len - 1] != ']')
                return; /* GKeyFile refuses it */
        name = g_strndup(line + 1, len - 2);
        group = g_hash_table_lookup(scan->groups, name);
        if (group != NULL) {
                g_ptr_array_add(scan->warnings,
                                g_strdup_printf("%s: [%s]: repeated on line %u (first on line "
                                                "%u), the two are merged",
                                                scan->origin, name, number, group->line));
        } else {
                group = g_new0(ScanGroup, 1);
                group->line = number;
                group->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
                g_hash_table_insert(scan->groups, g_strdup(name), group);
        }
        scan->group = group;
        g_hash_table_lookup_extended(scan->groups, name, (gpointer *)&scan->group_name, NULL);
}

/* Reads one line without NUL bytes, @number counting from 1. */
static void
scan_line(Scan *scan, const char *text, gsize length, guint number)
{
        g_autofree char *line = g_strstrip(g_strndup(text, length));
        g_autofree char *key = NULL;
        gpointer first;

        if (line[0] == '[') {
                scan_enter_group(scan, line, number);
                return;
        }
        key = scan_line_key(line);
        if (key == NULL || scan->group == NULL)
                return; /* a comment, or a line GKeyFile refuses */
        /* GKeyFile keeps the last value: its line is the one to blame. */
        if (scan->lines != NULL)
                g_hash_table_insert(scan->lines, g_strdup_printf("[%s] %s", scan->group_name, key),
                                    GUINT_TO_POINTER(number));
        if (g_hash_table_lookup_extended(scan->group->keys, key, NULL, &first)) {
                g_ptr_array_add(scan->warnings,
                                g_strdup_printf("%s: [%s] %s: repeated on line %u (first on line "
                                                "%u), the last value is used",
                                                scan->origin, scan->group_name, key, number,
                                                GPOINTER_TO_UINT(first)));
                return;
        }
        g_hash_table_insert(scan->group->keys, g_steal_pointer(&key), GUINT_TO_POINTER(number));
}

/* The error for a NUL byte on line @number, whose text before it is @text. */
static void
scan_set_nul_error(Scan *scan, const char *text, guint number, GError **error)
{
        g_autofree char *line = g_strstrip(g_strdup(text));
        g_autofree char *key = scan_line_key(line);
        g_autofree char *where = NULL;

        if (scan->group_name == NULL)
                where = g_strdup_printf("line %u", number);
        else if (key != NULL && key[0] != '\0')
                where = g_strdup_printf("[%s] %s (line %u)", scan->group_name, key, number);
        else
                where = g_strdup_printf("[%s] (line %u)", scan->group_name, number);
        g_set_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_SYNTAX,
                    "%s: %s: contains a NUL byte (a configuration file is text)", scan->origin,
                    where);
}

/**
 * vt_daemon_config_file_scan:
 * @origin: the file's name, for messages
 * @data: the file's content
 * @length: its length in bytes
 * @warnings: (element-type utf8): receives a message for each group or key
 *     given twice ("ORIGIN: [budget] reserve: repeated on line 7 (first on
 *     line 5), the last value is used")
 * @lines: (element-type utf8 guint) (nullable): receives, for each key,
 *     "[GROUP] KEY" (owned strings) mapped to the line of its last value,
 *     the one GKeyFile keeps (GUINT_TO_POINTER())
 * @error: %VT_DAEMON_CONFIG_ERROR_SYNTAX for a NUL byte, naming @origin,
 *     the line and its group and key
 *
 * Reads @data line by line as GKeyFile does (blanks around a line ignored,
 * "\r\n" ends one as "\n" does, '#' or nothing a comment, "[NAME]" a
 * group, "KEY = VALUE" a key, blanks around KEY ignored) for what GKeyFile
 * hides. Lines GKeyFile refuses are left for it to refuse.
 *
 * Returns: %TRUE unless @data holds a NUL byte
 */
gboolean
vt_daemon_config_file_scan(const char *origin, const char *data, gsize length, GPtrArray *warnings,
                           GHashTable *lines, GError **error)
{
        g_autoptr(GHashTable) groups =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, scan_group_free);
        Scan scan = {.origin = origin, .warnings = warnings, .lines = lines, .groups = groups};
        const char *end = data + length;
        guint number = 0;

        for (const char *p = data; p < end;) {
                const char *eol = memchr(p, '\n', (gsize)(end - p));
                gsize n = (gsize)((eol != NULL ? eol : end) - p);

                number++;
                if (memchr(p, '\0', n) != NULL) {
                        scan_set_nul_error(&scan, p, number, error);
                        return FALSE;
                }
                scan_line(&scan, p, n, number);
                p = eol != NULL ? eol + 1 : end;
        }
        return TRUE;
}
