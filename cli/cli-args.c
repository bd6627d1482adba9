/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the CLI makes of its arguments: sizes with a unit, option errors in vmtide's words. */

/*
 * Theory of operation: two habits of other tools meet vmtide's command
 * line. A virsh user types `setmem web1 1048576` meaning KiB, where
 * vt_size_parse() reads bytes: the guest would shrink to its floor. So every
 * size the CLI takes goes through vt_cli_size_parse(), which refuses a bare
 * number (but 0) and says what to write instead. And GLib's option parser
 * words its errors its own way ("Unknown option -5G", curly quotes, a
 * capital): vt_cli_option_error_words() rewrites them from the error's code
 * and the command line, which GLib leaves untouched on error.
 */
#include <string.h>

#include "cli/cli-util.h"

/* "1G", "3M" or "512B (bytes)": @kib KiB in the largest unit it fills. */
static char *
size_hint_other(const char *text, guint64 kib)
{
        if (kib > 0 && kib % (1024 * 1024) == 0)
                return g_strdup_printf("%" G_GUINT64_FORMAT "G", kib / (1024 * 1024));
        if (kib > 0 && kib % 1024 == 0)
                return g_strdup_printf("%" G_GUINT64_FORMAT "M", kib / 1024);
        return g_strdup_printf("%sB (bytes)", text);
}

/**
 * vt_cli_size_parse:
 * @text: what the user typed for a size
 * @ret_bytes: (out): the size in bytes, written on success
 * @error: %VT_SIZE_ERROR_INVALID quoting @text: not a size, above 4 PiB,
 *     or a number without a unit (with what to write instead)
 *
 * vt_size_parse_memory() for the command line: a number needs a unit
 * (`1048576K`, `1G`, `512B`), since `virsh` reads a bare number as KiB and
 * vmtided's configuration as bytes. A bare `0` means nothing either way and
 * is taken.
 *
 * Returns: %TRUE on success
 */
gboolean
vt_cli_size_parse(const char *text, guint64 *ret_bytes, GError **error)
{
        guint64 kib = 0;

        g_return_val_if_fail(text != NULL && ret_bytes != NULL, FALSE);

        if (text[0] != '\0' && strspn(text, "0123456789") == strlen(text) &&
            strspn(text, "0") != strlen(text)) {
                g_autofree char *other = NULL;

                if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &kib, NULL))
                        kib = 0;
                other = size_hint_other(text, kib);
                g_set_error(error, VT_SIZE_ERROR, VT_SIZE_ERROR_INVALID,
                            "'%s' has no unit: write %sK (as virsh means it) or %s", text, text,
                            other);
                return FALSE;
        }
        return vt_size_parse_memory(text, ret_bytes, error);
}

/* The word of GLib's @message that is on the command line: the option it
 * is about (GLib puts it last or before " out of range"), or %NULL. */
static const char *
option_error_arg(const char *message, int argc, char **argv)
{
        g_auto(GStrv) words = g_strsplit_set(message, " \t", -1);
        guint n = g_strv_length(words);

        for (guint i = n; i > 0; i--) {
                const char *word = words[i - 1];

                if (word[0] != '-')
                        continue;
                for (int a = 1; a < argc; a++) {
                        gsize len = strlen(word);

                        if (g_str_equal(argv[a], "--"))
                                break;
                        if (strncmp(argv[a], word, len) == 0 &&
                            (argv[a][len] == '\0' || argv[a][len] == '='))
                                return argv[a];
                }
        }
        return NULL;
}

/* The value given to the option at @arg (after '=' or the next word). */
static const char *
option_error_value(const char *arg, int argc, char **argv)
{
        const char *equals = strchr(arg, '=');

        if (equals != NULL)
                return equals + 1;
        for (int a = 1; a + 1 < argc; a++) {
                if (argv[a] == arg)
                        return argv[a + 1];
        }
        return NULL;
}

/* GLib's own words, its curly quotes made plain and its capital dropped. */
static char *
option_error_plain(const char *message)
{
        GString *out = g_string_new(message);

        g_string_replace(out, "\xe2\x80\x9c", "'", 0);
        g_string_replace(out, "\xe2\x80\x9d", "'", 0);
        if (out->len > 1 && g_ascii_isupper(out->str[0]) && g_ascii_islower(out->str[1]))
                out->str[0] = g_ascii_tolower(out->str[0]);
        return g_string_free(out, FALSE);
}

/**
 * vt_cli_option_error_words:
 * @error: what g_option_context_parse() said
 * @what: whose options: `vmtide` or `vmtide setmem`
 * @argc: the command line g_option_context_parse() was given (it leaves
 *     it as it was on error)
 * @argv: (array length=argc): the command line
 *
 * Returns: (transfer full): the error in vmtide's words, e.g. `-5G is not
 *     an option (sizes cannot be negative)` or `--min needs a value`
 */
char *
vt_cli_option_error_words(const GError *error, const char *what, int argc, char **argv)
{
        const char *arg;
        g_autofree char *name = NULL;

        g_return_val_if_fail(error != NULL, NULL);

        if (error->domain != G_OPTION_ERROR)
                return option_error_plain(error->message);
        arg = option_error_arg(error->message, argc, argv);
        if (arg == NULL)
                return option_error_plain(error->message);
        name = g_strndup(arg, strcspn(arg, "="));
        if (error->code == G_OPTION_ERROR_UNKNOWN_OPTION) {
                if (g_ascii_isdigit(name[1]) || (name[1] == '.' && g_ascii_isdigit(name[2])))
                        return g_strdup_printf("%s is not an option (sizes cannot be negative)",
                                               name);
                return g_strdup_printf("%s is not an option of '%s'", name, what);
        }
        if (error->code == G_OPTION_ERROR_BAD_VALUE) {
                const char *value = option_error_value(arg, argc, argv);

                if (value == NULL)
                        return g_strdup_printf("%s needs a value", name);
                return g_strdup_printf("%s: '%s' is not a valid value", name, value);
        }
        return option_error_plain(error->message);
}
