/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the CLI parses and prints: sizes, durations, aligned tables. Pure
 * code on GLib alone, tested in tests/test-cli.c.
 *
 * Sizes are binary throughout, as memory sizes are in QEMU, libvirt and
 * free(1): `K`, `KB` and `KiB` all mean 1024 bytes, `M`, `MB` and `MiB`
 * 1024² and so on, in upper or lower case. A fraction is allowed with a
 * unit (`1.5G`), rounded down to a whole byte; a bare number is bytes.
 */
#include "cli/cli-format.h"

#include <string.h>

#define SIZE_MAX_DECIMALS 9

/* clang-format off */
G_DEFINE_QUARK(vt-cli-error-quark, vt_cli_error)
/* clang-format on */

static gboolean
size_set_invalid(const char *text, const char *why, GError **error)
{
        g_set_error(error, VT_CLI_ERROR, VT_CLI_ERROR_INVALID, "invalid size '%s': %s", text, why);
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
 * vt_cli_size_parse:
 * @text: what the user typed, e.g. `512M`, `1.5G`, `2GiB`, `1048576`
 * @ret_bytes: (out): the size in bytes, written on success
 * @error: %VT_CLI_ERROR_INVALID quoting @text when it is empty, negative,
 *     not a size, or past 2^64 - 1 bytes
 *
 * Units are binary (see the top of this file); a fraction needs a unit.
 *
 * Returns: %TRUE on success
 */
gboolean
vt_cli_size_parse(const char *text, guint64 *ret_bytes, GError **error)
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
 * vt_cli_size_format:
 * @bytes: a size
 *
 * Returns: (transfer full): @bytes for a table, with one decimal in the
 *     largest binary unit it reaches: `512.0 MiB`, `1.5 GiB`, `100 B`
 */
char *
vt_cli_size_format(guint64 bytes)
{
        static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double value = (double)bytes / 1024.0;
        guint i = 0;

        if (bytes < 1024)
                return g_strdup_printf("%" G_GUINT64_FORMAT " B", bytes);
        /* Move up when the value would print as 1024.0 of this unit. */
        while (i + 1 < G_N_ELEMENTS(units) && value >= 1023.95) {
                value /= 1024.0;
                i++;
        }
        return g_strdup_printf("%.1f %s", value, units[i]);
}

/**
 * vt_cli_duration_format:
 * @ms: a duration in milliseconds
 *
 * Returns: (transfer full): @ms in the unit a person reads best: `250 ms`,
 *     `4.0 s`, `2m 5s`, `3h 20m`, `2d 4h`; `-` for a negative duration
 */
char *
vt_cli_duration_format(gint64 ms)
{
        const gint64 minute = 60 * 1000;
        const gint64 hour = 60 * minute;
        const gint64 day = 24 * hour;

        if (ms < 0)
                return g_strdup("-");
        if (ms < 1000)
                return g_strdup_printf("%" G_GINT64_FORMAT " ms", ms);
        /* Truncated, like the larger units: 59999 ms is not "60.0 s". */
        if (ms < minute)
                return g_strdup_printf("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT " s", ms / 1000,
                                       ms % 1000 / 100);
        if (ms < hour)
                return g_strdup_printf("%" G_GINT64_FORMAT "m %" G_GINT64_FORMAT "s", ms / minute,
                                       ms % minute / 1000);
        if (ms < day)
                return g_strdup_printf("%" G_GINT64_FORMAT "h %" G_GINT64_FORMAT "m", ms / hour,
                                       ms % hour / minute);
        return g_strdup_printf("%" G_GINT64_FORMAT "d %" G_GINT64_FORMAT "h", ms / day,
                               ms % day / hour);
}

typedef struct {
        char *header; /* NULL: none */
        VtCliAlign align;
} TableColumn;

struct _VtCliTable {
        GArray *columns;  /* TableColumn */
        GPtrArray *cells; /* char *, row after row */
};

static void
table_column_clear(gpointer data)
{
        g_free(((TableColumn *)data)->header);
}

/**
 * vt_cli_table_new:
 *
 * A table of text, columns padded to their widest cell. Add the columns,
 * then the cells row after row.
 *
 * Returns: (transfer full): an empty table
 */
VtCliTable *
vt_cli_table_new(void)
{
        VtCliTable *table = g_new0(VtCliTable, 1);

        table->columns = g_array_new(FALSE, TRUE, sizeof(TableColumn));
        g_array_set_clear_func(table->columns, table_column_clear);
        table->cells = g_ptr_array_new_with_free_func(g_free);
        return table;
}

/**
 * vt_cli_table_free:
 * @table: (nullable): a table
 */
void
vt_cli_table_free(VtCliTable *table)
{
        if (table == NULL)
                return;
        g_array_unref(table->columns);
        g_ptr_array_unref(table->cells);
        g_free(table);
}

/**
 * vt_cli_table_add_column:
 * @table: a table without cells yet
 * @header: (nullable): the column's title; a table whose titles are all
 *     %NULL prints no title row
 * @align: how cells sit in the column
 */
void
vt_cli_table_add_column(VtCliTable *table, const char *header, VtCliAlign align)
{
        TableColumn column = {g_strdup(header), align};

        g_return_if_fail(table != NULL);
        g_return_if_fail(table->cells->len == 0);
        g_array_append_val(table->columns, column);
}

/**
 * vt_cli_table_take_cell:
 * @table: a table with columns
 * @text: (transfer full) (nullable): the next cell; %NULL prints `-`
 *
 * Fills the current row from the left; the row after it starts once every
 * column has a cell.
 */
void
vt_cli_table_take_cell(VtCliTable *table, char *text)
{
        g_return_if_fail(table != NULL);
        g_return_if_fail(table->columns->len > 0);
        g_ptr_array_add(table->cells, text != NULL ? text : g_strdup("-"));
}

/**
 * vt_cli_table_add_cell:
 * @table: a table with columns
 * @text: (nullable): the next cell, copied; %NULL prints `-`
 */
void
vt_cli_table_add_cell(VtCliTable *table, const char *text)
{
        vt_cli_table_take_cell(table, g_strdup(text));
}

/**
 * vt_cli_table_get_n_rows:
 * @table: a table
 *
 * Returns: how many rows have at least one cell, the title not counted
 */
guint
vt_cli_table_get_n_rows(VtCliTable *table)
{
        g_return_val_if_fail(table != NULL, 0);
        if (table->columns->len == 0)
                return 0;
        return (table->cells->len + table->columns->len - 1) / table->columns->len;
}

/* Columns a cell takes on a terminal: characters for UTF-8, else bytes. */
static gsize
table_text_width(const char *text)
{
        if (g_utf8_validate(text, -1, NULL))
                return (gsize)g_utf8_strlen(text, -1);
        return strlen(text);
}

static void
table_append_row(VtCliTable *table, GString *out, const char *const *cells, const gsize *widths)
{
        guint n_columns = table->columns->len;
        gsize line_start = out->len;

        for (guint c = 0; c < n_columns; c++) {
                const TableColumn *column = &g_array_index(table->columns, TableColumn, c);
                const char *text = cells[c] != NULL ? cells[c] : "";
                gsize pad = widths[c] - table_text_width(text);

                if (c > 0)
                        g_string_append(out, "  ");
                if (column->align == VT_CLI_ALIGN_RIGHT)
                        g_string_append_printf(out, "%*s", (int)pad, "");
                g_string_append(out, text);
                if (column->align == VT_CLI_ALIGN_LEFT)
                        g_string_append_printf(out, "%*s", (int)pad, "");
        }
        /* No trailing blanks: they upset diff and copy-paste. */
        while (out->len > line_start && out->str[out->len - 1] == ' ')
                g_string_truncate(out, out->len - 1);
        g_string_append_c(out, '\n');
}

/**
 * vt_cli_table_render:
 * @table: a table
 *
 * Lays the table out: two spaces between columns, each column as wide as
 * its widest cell, no trailing blanks, a newline after each row.
 *
 * Returns: (transfer full): the text, empty for a table without columns
 */
char *
vt_cli_table_render(VtCliTable *table)
{
        guint n_columns, n_rows;
        g_autofree gsize *widths = NULL;
        g_autofree const char **row = NULL;
        gboolean has_header = FALSE;
        GString *out;

        g_return_val_if_fail(table != NULL, NULL);

        out = g_string_new(NULL);
        n_columns = table->columns->len;
        if (n_columns == 0)
                return g_string_free(out, FALSE);
        n_rows = vt_cli_table_get_n_rows(table);
        widths = g_new0(gsize, n_columns);
        row = g_new0(const char *, n_columns);
        for (guint c = 0; c < n_columns; c++) {
                const TableColumn *column = &g_array_index(table->columns, TableColumn, c);

                if (column->header != NULL) {
                        has_header = TRUE;
                        widths[c] = table_text_width(column->header);
                }
        }
        for (guint i = 0; i < table->cells->len; i++)
                widths[i % n_columns] =
                    MAX(widths[i % n_columns], table_text_width(table->cells->pdata[i]));

        if (has_header) {
                for (guint c = 0; c < n_columns; c++)
                        row[c] = g_array_index(table->columns, TableColumn, c).header;
                table_append_row(table, out, row, widths);
        }
        for (guint r = 0; r < n_rows; r++) {
                for (guint c = 0; c < n_columns; c++) {
                        guint i = r * n_columns + c;

                        row[c] = i < table->cells->len ? table->cells->pdata[i] : NULL;
                }
                table_append_row(table, out, row, widths);
        }
        return g_string_free(out, FALSE);
}
