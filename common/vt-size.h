/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Memory sizes as people write them ("512M", "1.5G", "2GiB", bytes) and as vmtide writes them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VT_SIZE_ERROR (vt_size_error_quark())

/**
 * VtSizeError:
 * @VT_SIZE_ERROR_INVALID: the text is not a size, or one past 2^64 - 1 (past
 *     %VT_SIZE_MEMORY_MAX for vt_size_parse_memory())
 *
 * Codes of the %VT_SIZE_ERROR domain.
 */
typedef enum {
        VT_SIZE_ERROR_INVALID,
        VT_SIZE_ERROR_MAX,
} VtSizeError;

GQuark vt_size_error_quark(void);

/* The binary units, in bytes: the only KiB, MiB and GiB constants. */
#define VT_SIZE_KIB (G_GUINT64_CONSTANT(1) << 10)
#define VT_SIZE_MIB (G_GUINT64_CONSTANT(1) << 20)
#define VT_SIZE_GIB (G_GUINT64_CONSTANT(1) << 30)

/*
 * The largest memory size vmtide takes from a person (the configuration,
 * the command line): 4 PiB (2^52 bytes), the most physical memory a 64-bit
 * machine can address today (52-bit physical addresses: x86-64 with 5-level
 * paging, arm64 with LPA). Bounded at the input, a size is exact as a double
 * (below 2^53) and 2048 of them add up within a gint64, so nothing
 * downstream wraps to a negative figure.
 */
#define VT_SIZE_MEMORY_MAX (G_GUINT64_CONSTANT(1) << 52)

/**
 * VtSizeStyle:
 * @VT_SIZE_STYLE_TABLE: one decimal in the largest binary unit the size
 *     reaches, bytes below 1 KiB: `512.0 MiB`, `1.5 GiB`, `100 B` (the CLI's
 *     tables; vt_size_format())
 * @VT_SIZE_STYLE_SHORT: whole B, KiB or MiB, one decimal from 1 GiB up:
 *     `512 MiB`, `1.5 GiB`, `-40 MiB`, `12 KiB`, `0 B`; `?` when not finite
 *     (the balloon policies' reasons)
 * @VT_SIZE_STYLE_MIB: whole MiB, rounded: `512 MiB`, `2048 MiB` (the
 *     daemon's log lines, and reasons that quote a size set by hand)
 * @VT_SIZE_STYLE_DECIMAL: one decimal from 1 KiB up, `bytes` below:
 *     `2.1 GiB`, `-1.5 MiB`, `512 bytes` (the KSM tuner's reasons)
 * @VT_SIZE_STYLE_MAX: the number of styles
 *
 * How vt_size_to_text() writes a size. Every style puts a plain space
 * between the number and its unit (g_format_size() puts a no-break one),
 * and a `-` before a negative size.
 */
typedef enum {
        VT_SIZE_STYLE_TABLE,
        VT_SIZE_STYLE_SHORT,
        VT_SIZE_STYLE_MIB,
        VT_SIZE_STYLE_DECIMAL,
        VT_SIZE_STYLE_MAX,
} VtSizeStyle;

/**
 * VtSizeText:
 * @str: the size as text, at most 47 characters (longer is cut)
 *
 * A size as text, returned by value by vt_size_to_text(): its @str lives
 * until the end of the full expression, so it can be a printf argument
 * (see VT_SIZE_STR()). Nothing to free.
 */
typedef struct {
        char str[48];
} VtSizeText;

gboolean vt_size_parse(const char *text, guint64 *ret_bytes, GError **error);
gboolean vt_size_parse_memory(const char *text, guint64 *ret_bytes, GError **error);
VtSizeText vt_size_to_text(double bytes, VtSizeStyle style);
char *vt_size_format(guint64 bytes);

/* A size as a printf argument: VT_SIZE_STR(bytes, VT_SIZE_STYLE_MIB). */
#define VT_SIZE_STR(bytes, style) (vt_size_to_text((double)(bytes), (style)).str)

G_END_DECLS
