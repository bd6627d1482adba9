/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the CLI prints: durations, aligned tables (sizes are
 * common/vt-size.c's). Pure code on GLib alone, tested in tests/test-cli.c.
 */
#include "cli/cli-format.h"

#include <string.h>

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

/**
 * vt_cli_table_new_fields:
 *
 * Returns: (transfer full): a table of "Label: value" rows without
 *     headers, for vt_cli_table_add_field()
 */
VtCliTable *
vt_cli_table_new_fields(void)
{
        VtCliTable *table = vt_cli_table_new();

        vt_cli_table_add_column(table, NULL, VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, NULL, VT_CLI_ALIGN_LEFT);
        return table;
}

/**
 * vt_cli_table_add_field:
 * @table: a table from vt_cli_table_new_fields()
 * @label: the row's label, e.g. "Balloon:"
 * @value: (transfer full) (nullable): its value; %NULL prints `-`
 */
void
vt_cli_table_add_field(VtCliTable *table, const char *label, char *value)
{
        vt_cli_table_add_cell(table, label);
        vt_cli_table_take_cell(table, value);
}
