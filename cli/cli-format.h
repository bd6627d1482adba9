/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the CLI parses and prints: sizes, durations, aligned tables. */
#pragma once

#include <glib.h>

#include "common/vt-size.h"

G_BEGIN_DECLS

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
VtCliTable *vt_cli_table_new_fields(void);
void vt_cli_table_add_field(VtCliTable *table, const char *label, char *value);
guint vt_cli_table_get_n_rows(VtCliTable *table);
char *vt_cli_table_render(VtCliTable *table);

G_END_DECLS
