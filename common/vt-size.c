/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Memory sizes as people write them, for the CLI, the configuration and
 * anything else that reads one, and as vmtide writes them in tables, log
 * lines and reasons. Pure code on GLib alone.
 *
 * Sizes are binary throughout, as memory sizes are in QEMU, libvirt's
 * <memory unit='GiB'> and free(1): `K`, `KB` and `KiB` all mean 1024
 * bytes, `M`, `MB` and `MiB` 1024² and so on up to `P`, in upper or lower
 * case. A fraction is allowed with a unit (`1.5G`), rounded down to a
 * whole byte; a bare number (or `B`) is bytes. Spaces may separate the
 * number from its unit, nothing else may surround them.
 */
#include "common/vt-size.h"

#include <math.h> /* isfinite(), a macro: no libm */
#include <string.h>

#define SIZE_MAX_DECIMALS 9

/* clang-format off */
G_DEFINE_QUARK(vt-size-error-quark, vt_size_error)
/* clang-format on */

static gboolean
size_set_invalid(const char *text, const char *why, GError **error)
{
        g_set_error(error, VT_SIZE_ERROR, VT_SIZE_ERROR_INVALID, "invalid size '%s': %s", text,
                    why);
        return FALSE;
}

/* The power of two a unit stands for (0 for bytes), or -1 if unknown. */
static int
size_unit_shift(const char *unit)
{
        static const char prefixes[] = "kmgtp";
        const char *prefix;

        if (unit[0] == '\0' || g_ascii_strcasecmp(unit, "b") == 0)
                return 0;
        prefix = strchr(prefixes, g_ascii_tolower(unit[0]));
        if (prefix == NULL)
                return -1;
        if (unit[1] != '\0' && g_ascii_strcasecmp(unit + 1, "b") != 0 &&
            g_ascii_strcasecmp(unit + 1, "ib") != 0)
                return -1;
        return 10 * (int)(prefix - prefixes + 1);
}

/* floor(@numerator × 2^@shift / @denominator) for @numerator < @denominator,
 * by long division so that nothing overflows. */
static guint64
size_scale_fraction(guint64 numerator, guint64 denominator, int shift)
{
        guint64 quotient = 0;
        guint64 remainder = numerator;

        for (int i = 0; i < shift; i++) {
                remainder *= 2;
                quotient *= 2;
                if (remainder >= denominator) {
                        quotient++;
                        remainder -= denominator;
                }
        }
        return quotient;
}

/**
 * vt_size_parse:
 * @text: what the user typed, e.g. `512M`, `1.5G`, `2GiB`, `1048576`
 * @ret_bytes: (out): the size in bytes, written on success
 * @error: %VT_SIZE_ERROR_INVALID quoting @text when it is empty, negative,
 *     not a size, or past 2^64 - 1 bytes
 *
 * Units are binary (see the top of this file); a fraction needs a unit.
 * Blanks are not allowed: trim configuration values first.
 *
 * Returns: %TRUE on success
 */
gboolean
vt_size_parse(const char *text, guint64 *ret_bytes, GError **error)
{
        const char *p = text;
        guint64 whole = 0;
        guint64 fraction = 0;
        guint64 denominator = 1;
        guint64 bytes;
        int shift;

        g_return_val_if_fail(text != NULL, FALSE);
        g_return_val_if_fail(ret_bytes != NULL, FALSE);

        if (*p == '\0')
                return size_set_invalid(text, "empty", error);
        if (*p == '-')
                return size_set_invalid(text, "a size cannot be negative", error);
        if (!g_ascii_isdigit(*p))
                return size_set_invalid(text,
                                        "expected a number with an optional unit "
                                        "(K, M, G, T, P), e.g. 512M or 1.5G",
                                        error);
        for (; g_ascii_isdigit(*p); p++) {
                guint digit = (guint)(*p - '0');

                if (whole > (G_MAXUINT64 - digit) / 10)
                        return size_set_invalid(text, "too large", error);
                whole = whole * 10 + digit;
        }
        if (*p == '.') {
                p++;
                if (!g_ascii_isdigit(*p))
                        return size_set_invalid(text, "expected digits after the decimal point",
                                                error);
                for (guint n = 0; g_ascii_isdigit(*p); p++, n++) {
                        if (n == SIZE_MAX_DECIMALS)
                                return size_set_invalid(text, "too many decimals", error);
                        fraction = fraction * 10 + (guint64)(*p - '0');
                        denominator *= 10;
                }
        }
        /* "512 MiB" reads as well as "512MiB". */
        while (*p == ' ')
                p++;
        shift = size_unit_shift(p);
        if (shift < 0)
                return size_set_invalid(text, "unknown unit (use K, M, G, T or P)", error);
        if (shift == 0 && fraction != 0)
                return size_set_invalid(text, "a number of bytes must be whole", error);
        if (shift > 0 && whole > (G_MAXUINT64 >> shift))
                return size_set_invalid(text, "too large", error);
        bytes = whole << shift;
        if (fraction != 0) {
                guint64 extra = size_scale_fraction(fraction, denominator, shift);

                if (bytes > G_MAXUINT64 - extra)
                        return size_set_invalid(text, "too large", error);
                bytes += extra;
        }
        *ret_bytes = bytes;
        return TRUE;
}

/**
 * vt_size_parse_memory:
 * @text: a memory size, as for vt_size_parse()
 * @ret_bytes: (out): the size in bytes, written on success
 * @error: %VT_SIZE_ERROR_INVALID quoting @text when vt_size_parse() refuses
 *     it or it is above %VT_SIZE_MEMORY_MAX (4 PiB)
 *
 * vt_size_parse() bounded by %VT_SIZE_MEMORY_MAX: for sizes of memory (a
 * budget, a reserve, a guest's limits), where a larger figure is a typo
 * that would otherwise overflow the arithmetic it feeds.
 *
 * Returns: %TRUE on success
 */
gboolean
vt_size_parse_memory(const char *text, guint64 *ret_bytes, GError **error)
{
        guint64 bytes;

        g_return_val_if_fail(text != NULL, FALSE);
        g_return_val_if_fail(ret_bytes != NULL, FALSE);

        if (!vt_size_parse(text, &bytes, error))
                return FALSE;
        if (bytes > VT_SIZE_MEMORY_MAX)
                return size_set_invalid(text,
                                        "too large (at most 4 PiB, the most memory a machine "
                                        "can address)",
                                        error);
        *ret_bytes = bytes;
        return TRUE;
}

/* VT_SIZE_STYLE_TABLE; moves up a unit when the value would print as
 * 1024.0 of this one. */
static void
size_text_table(double bytes, char *buf, gsize size)
{
        static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        const char *sign = bytes < 0 ? "-" : "";
        double v = bytes < 0 ? -bytes : bytes;
        guint i = 0;

        if (!isfinite(bytes)) {
                g_snprintf(buf, size, "?");
                return;
        }
        if (v < 1024) {
                g_snprintf(buf, size, "%s%.0f B", sign, v);
                return;
        }
        v /= 1024.0;
        while (i + 1 < G_N_ELEMENTS(units) && v >= 1023.95) {
                v /= 1024.0;
                i++;
        }
        g_snprintf(buf, size, "%s%.1f %s", sign, v, units[i]);
}

/* VT_SIZE_STYLE_SHORT: no unit past GiB. */
static void
size_text_short(double bytes, char *buf, gsize size)
{
        const char *sign = bytes < 0 ? "-" : "";
        double v = bytes < 0 ? -bytes : bytes;

        if (!isfinite(bytes))
                g_snprintf(buf, size, "?");
        else if (v >= (double)VT_SIZE_GIB)
                g_snprintf(buf, size, "%s%.1f GiB", sign, v / (double)VT_SIZE_GIB);
        else if (v >= (double)VT_SIZE_MIB)
                g_snprintf(buf, size, "%s%.0f MiB", sign, v / (double)VT_SIZE_MIB);
        else if (v >= (double)VT_SIZE_KIB)
                g_snprintf(buf, size, "%s%.0f KiB", sign, v / (double)VT_SIZE_KIB);
        else
                g_snprintf(buf, size, "%s%.0f B", sign, v);
}

/* VT_SIZE_STYLE_DECIMAL; moves up a unit at 1024 of this one. */
static void
size_text_decimal(double bytes, char *buf, gsize size)
{
        static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes < 0 ? -bytes : bytes;
        guint i = 0;

        if (!(v >= 1024)) {
                g_snprintf(buf, size, "%.0f bytes", bytes);
                return;
        }
        v /= 1024;
        while (v >= 1024 && i + 1 < G_N_ELEMENTS(units)) {
                v /= 1024;
                i++;
        }
        g_snprintf(buf, size, "%s%.1f %s", bytes < 0 ? "-" : "", v, units[i]);
}

/**
 * vt_size_to_text:
 * @bytes: a size, possibly negative or a fraction of a byte (a rate)
 * @style: how to write it (#VtSizeStyle)
 *
 * The one formatter of sizes for tables, log lines and reasons; the style
 * says which of the formats below each reader expects.
 *
 * Returns: @bytes as text, by value (#VtSizeText; nothing to free)
 */
VtSizeText
vt_size_to_text(double bytes, VtSizeStyle style)
{
        VtSizeText text;

        switch (style) {
        case VT_SIZE_STYLE_SHORT:
                size_text_short(bytes, text.str, sizeof(text.str));
                break;
        case VT_SIZE_STYLE_MIB:
                g_snprintf(text.str, sizeof(text.str), "%.0f MiB", bytes / (double)VT_SIZE_MIB);
                break;
        case VT_SIZE_STYLE_DECIMAL:
                size_text_decimal(bytes, text.str, sizeof(text.str));
                break;
        case VT_SIZE_STYLE_TABLE:
        default:
                size_text_table(bytes, text.str, sizeof(text.str));
                break;
        }
        return text;
}

/**
 * vt_size_format:
 * @bytes: a size
 *
 * Returns: (transfer full): @bytes for a table, with one decimal in the
 *     largest binary unit it reaches: `512.0 MiB`, `1.5 GiB`, `100 B`
 *     (%VT_SIZE_STYLE_TABLE)
 */
char *
vt_size_format(guint64 bytes)
{
        return g_strdup(vt_size_to_text((double)bytes, VT_SIZE_STYLE_TABLE).str);
}
