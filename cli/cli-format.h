/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the CLI parses and prints: sizes, durations, aligned tables. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VT_CLI_ERROR (vt_cli_error_quark())

/**
 * VtCliError:
 * @VT_CLI_ERROR_INVALID: the user gave a value the CLI cannot take
 *
 * Codes of the %VT_CLI_ERROR domain: mistakes in the command line.
 */
typedef enum {
        VT_CLI_ERROR_INVALID,
        VT_CLI_ERROR_MAX,
} VtCliError;

GQuark vt_cli_error_quark(void);

gboolean vt_cli_size_parse(const char *text, guint64 *ret_bytes, GError **error);
char *vt_cli_size_format(guint64 bytes);
char *vt_cli_duration_format(gint64 ms);

/**
 * VtCliAlign:
 * @VT_CLI_ALIGN_LEFT: text
 * @VT_CLI_ALIGN_RIGHT: numbers
 */
typedef enum {
        VT_CLI_ALIGN_LEFT,
        VT_CLI_ALIGN_RIGHT,
} VtCliAlign;

typedef struct _VtCliTable VtCliTable;

VtCliTable *vt_cli_table_new(void);
void vt_cli_table_free(VtCliTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtCliTable, vt_cli_table_free)

void vt_cli_table_add_column(VtCliTable *table, const char *header, VtCliAlign align);
void vt_cli_table_add_cell(VtCliTable *table, const char *text);
void vt_cli_table_take_cell(VtCliTable *table, char *text);
guint vt_cli_table_get_n_rows(VtCliTable *table);
char *vt_cli_table_render(VtCliTable *table);

G_END_DECLS
