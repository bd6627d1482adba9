/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text helpers shared by the memory sensors (zram, zswap, fragmentation,
 * topology): one bounded read of a kernel file found under a root that
 * tests replace with a recorded tree, and pure parsers of the shapes the
 * kernel prints ("key value" lines, "Key:   123 kB" lines, a list with
 * the selected word in brackets). A missing or unreadable file is a
 * NULL or FALSE, never an error: what a kernel lacks is "not present".
 */
#include "host/sensing/sensing-text.h"

#include <string.h>

#include "common/vt-file.h"

/**
 * vt_host_text_read:
 * @root: the root the kernel's files are under ("/" on a real host)
 * @rel: the file's path below @root, e.g. "proc/vmstat"
 *
 * Reads at most %VT_HOST_TEXT_MAX bytes, whole lines only.
 *
 * Returns: (transfer full) (nullable): the text, or %NULL when the file
 *     is missing or unreadable (write-only sysfs files, debugfs without
 *     permission)
 */
char *
vt_host_text_read(const char *root, const char *rel)
{
        g_autofree char *path = NULL;
        g_autofree char *buf = NULL;
        gssize len;

        g_return_val_if_fail(root != NULL && rel != NULL, NULL);

        path = g_build_filename(root, rel, NULL);
        buf = g_malloc(VT_HOST_TEXT_MAX + 1);
        len = vt_file_read_lines(path, buf, VT_HOST_TEXT_MAX + 1);
        if (len < 0)
                return NULL;
        return g_strndup(buf, (gsize)len);
}

/**
 * vt_host_text_read_u64:
 * @root: as for vt_host_text_read()
 * @rel: a file that holds one unsigned decimal (a sysfs counter)
 * @ret_value: (out): the number; written only on success
 *
 * Returns: %TRUE when the file was read and holds one number
 */
gboolean
vt_host_text_read_u64(const char *root, const char *rel, guint64 *ret_value)
{
        g_autofree char *text = vt_host_text_read(root, rel);

        return text != NULL && vt_host_text_parse_u64(text, ret_value);
}

/**
 * vt_host_text_parse_u64:
 * @text: one unsigned decimal, blanks around it allowed
 * @ret_value: (out): the number; written only on success
 *
 * Pure.
 *
 * Returns: %TRUE when @text is one number
 */
gboolean
vt_host_text_parse_u64(const char *text, guint64 *ret_value)
{
        g_autofree char *copy = NULL;

        if (text == NULL)
                return FALSE;
        copy = g_strstrip(g_strdup(text));
        return g_ascii_string_to_unsigned(copy, 10, 0, G_MAXUINT64, ret_value, NULL);
}

/* The start of the value of the line "KEY<sep>..." in TEXT, or NULL. */
static const char *
find_key(const char *text, const char *key)
{
        gsize key_len = strlen(key);
        const char *line = text;

        while (line != NULL && *line != '\0') {
                if (strncmp(line, key, key_len) == 0 &&
                    (line[key_len] == ' ' || line[key_len] == ':' || line[key_len] == '\t'))
                        return line + key_len + (line[key_len] == ':' ? 1 : 0);
                line = strchr(line, '\n');
                if (line != NULL)
                        line++;
        }
        return NULL;
}

/* The first number after VALUE's blanks, up to the end of its line. */
static gboolean
parse_leading_u64(const char *value, guint64 *ret_value)
{
        const char *end;
        g_autofree char *word = NULL;

        while (*value == ' ' || *value == '\t')
                value++;
        end = value;
        while (g_ascii_isdigit(*end))
                end++;
        if (end == value)
                return FALSE;
        word = g_strndup(value, (gsize)(end - value));
        return g_ascii_string_to_unsigned(word, 10, 0, G_MAXUINT64, ret_value, NULL);
}

/**
 * vt_host_text_get_u64:
 * @text: "key value" lines (/proc/vmstat)
 * @key: the key
 * @ret_value: (out): its value; written only on success
 *
 * Pure.
 *
 * Returns: %TRUE when @key has a line with a number
 */
gboolean
vt_host_text_get_u64(const char *text, const char *key, guint64 *ret_value)
{
        const char *value;

        g_return_val_if_fail(key != NULL && ret_value != NULL, FALSE);
        if (text == NULL)
                return FALSE;
        value = find_key(text, key);
        return value != NULL && parse_leading_u64(value, ret_value);
}

/**
 * vt_host_text_get_kib:
 * @text: "Key:   123 kB" lines (/proc/meminfo)
 * @key: the key, without its colon
 * @ret_bytes: (out): the value in bytes; written only on success
 *
 * Pure.
 *
 * Returns: %TRUE when @key has a line with a number that fits in bytes
 */
gboolean
vt_host_text_get_kib(const char *text, const char *key, guint64 *ret_bytes)
{
        guint64 kib;

        if (!vt_host_text_get_u64(text, key, &kib) || kib > G_MAXUINT64 / 1024)
                return FALSE;
        *ret_bytes = kib * 1024;
        return TRUE;
}

/**
 * vt_host_text_selected:
 * @text: a list with the selected word in brackets, as sysfs prints a
 *     choice ("[lzo-rle] lzo lz4", "always [madvise] never")
 * @buf: receives the selected word, NUL-terminated (truncated to fit)
 * @size: the size of @buf
 *
 * Pure.
 *
 * Returns: %TRUE when @text has a bracketed word
 */
gboolean
vt_host_text_selected(const char *text, char *buf, gsize size)
{
        const char *open, *close;
        g_autofree char *word = NULL;

        g_return_val_if_fail(buf != NULL && size > 0, FALSE);
        if (text == NULL)
                return FALSE;
        open = strchr(text, '[');
        close = open != NULL ? strchr(open, ']') : NULL;
        if (close == NULL || close == open + 1)
                return FALSE;
        word = g_strndup(open + 1, (gsize)(close - open - 1));
        g_strlcpy(buf, word, size);
        return TRUE;
}
