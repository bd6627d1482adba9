/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Prometheus text exposition format, version 0.0.4 (docs/metrics.md).
 *
 * Theory of operation: a scrape writes one exposition from what the
 * daemon already holds; this file knows only the format. A family is
 * announced once (`# HELP`, `# TYPE`) and its samples follow it at once,
 * as the format requires. Names are the caller's constants, so a bad one
 * is a programmer error; label values may come from guests (a guest's
 * name), so they are escaped, never trusted. Values print as integers
 * when they are whole (bytes, counts: exact up to 2^53), else in the
 * shortest form that reads back the same, and never in the locale's.
 * Pure: GLib alone, no I/O.
 */
#include "host/metrics/metrics-format.h"

#include <math.h>

struct _VtMetricsWriter {
        GString *out;
        char *family;
        VtMetricsType type;
        GHashTable *seen; /* family names announced */
};

static const char *const type_names[VT_METRICS_TYPE_MAX] = {
    [VT_METRICS_GAUGE] = "gauge",
    [VT_METRICS_COUNTER] = "counter",
    [VT_METRICS_HISTOGRAM] = "histogram",
};

/**
 * vt_metrics_type_to_string:
 * @type: a type
 *
 * Returns: its word on a `# TYPE` line ("gauge", "counter", "histogram")
 */
const char *
vt_metrics_type_to_string(VtMetricsType type)
{
        g_return_val_if_fail(type < VT_METRICS_TYPE_MAX, "untyped");
        return type_names[type];
}

static gboolean
name_is_valid(const char *name, gboolean colon)
{
        if (name == NULL || name[0] == '\0' || g_ascii_isdigit(name[0]))
                return FALSE;
        for (const char *p = name; *p != '\0'; p++) {
                if (!g_ascii_isalnum(*p) && *p != '_' && !(colon && *p == ':'))
                        return FALSE;
        }
        return TRUE;
}

/**
 * vt_metrics_name_is_valid:
 * @name: (nullable): a metric name
 *
 * Returns: whether @name matches `[a-zA-Z_:][a-zA-Z0-9_:]*`
 */
gboolean
vt_metrics_name_is_valid(const char *name)
{
        return name_is_valid(name, TRUE);
}

/**
 * vt_metrics_label_name_is_valid:
 * @name: (nullable): a label name
 *
 * Returns: whether @name matches `[a-zA-Z_][a-zA-Z0-9_]*` and does not
 *     start with `__` (reserved for Prometheus itself)
 */
gboolean
vt_metrics_label_name_is_valid(const char *name)
{
        return name_is_valid(name, FALSE) && !g_str_has_prefix(name, "__");
}

/**
 * vt_metrics_append_value:
 * @out: where to append
 * @value: a sample's value
 *
 * Appends @value as the format spells it: `NaN`, `+Inf`, `-Inf`, a whole
 * number without a fraction, else the shortest decimal that reads back
 * as @value, with a dot whatever the locale.
 */
void
vt_metrics_append_value(GString *out, double value)
{
        char buf[G_ASCII_DTOSTR_BUF_SIZE];

        if (isnan(value))
                g_string_append(out, "NaN");
        else if (isinf(value))
                g_string_append(out, value > 0 ? "+Inf" : "-Inf");
        else if (value == floor(value) && fabs(value) < 9007199254740992.0)
                g_string_append_printf(out, "%" G_GINT64_FORMAT, (gint64)value);
        else {
                /* %.15g reads back the same for most values and reads well. */
                g_ascii_formatd(buf, sizeof(buf), "%.15g", value);
                if (g_ascii_strtod(buf, NULL) != value)
                        g_ascii_formatd(buf, sizeof(buf), "%.17g", value);
                g_string_append(out, buf);
        }
}

/* Escapes a label value (backslash, double quote, newline) or HELP text
 * (backslash, newline) onto @out. */
static void
append_escaped(GString *out, const char *text, gboolean quote)
{
        g_autofree char *valid = NULL;

        /* The format is UTF-8; a guest's name need not be. */
        if (!g_utf8_validate(text, -1, NULL))
                text = valid = g_utf8_make_valid(text, -1);
        for (const char *p = text; *p != '\0'; p++) {
                if (*p == '\\')
                        g_string_append(out, "\\\\");
                else if (*p == '\n')
                        g_string_append(out, "\\n");
                else if (quote && *p == '"')
                        g_string_append(out, "\\\"");
                else
                        g_string_append_c(out, *p);
        }
}

/**
 * vt_metrics_writer_new:
 *
 * Returns: (transfer full): a writer of an empty exposition
 */
VtMetricsWriter *
vt_metrics_writer_new(void)
{
        VtMetricsWriter *writer = g_new0(VtMetricsWriter, 1);

        writer->out = g_string_sized_new(4096);
        writer->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        return writer;
}

/**
 * vt_metrics_writer_free:
 * @writer: (nullable): a writer
 *
 * Frees @writer and what it wrote, unless vt_metrics_writer_end() took it.
 */
void
vt_metrics_writer_free(VtMetricsWriter *writer)
{
        if (writer == NULL)
                return;
        if (writer->out != NULL)
                g_string_free(writer->out, TRUE);
        g_free(writer->family);
        g_hash_table_destroy(writer->seen);
        g_free(writer);
}

/**
 * vt_metrics_writer_family:
 * @writer: a writer
 * @name: the family's name, valid and not announced before
 * @type: its type
 * @help: one line on what it measures (escaped here)
 *
 * Announces a family: the samples written next belong to it.
 */
void
vt_metrics_writer_family(VtMetricsWriter *writer, const char *name, VtMetricsType type,
                         const char *help)
{
        g_return_if_fail(writer != NULL && writer->out != NULL);
        g_return_if_fail(vt_metrics_name_is_valid(name));
        g_return_if_fail(type < VT_METRICS_TYPE_MAX);
        g_return_if_fail(help != NULL);
        g_return_if_fail(!g_hash_table_contains(writer->seen, name));

        g_hash_table_add(writer->seen, g_strdup(name));
        g_free(writer->family);
        writer->family = g_strdup(name);
        writer->type = type;
        g_string_append_printf(writer->out, "# HELP %s ", name);
        append_escaped(writer->out, help, FALSE);
        g_string_append_printf(writer->out, "\n# TYPE %s %s\n", name, type_names[type]);
}

/* One line: the family's name, @suffix, the labels, @extra_le (a
 * histogram bucket's bound) and @value. */
static void
append_line(VtMetricsWriter *writer, const char *suffix, const char *const *labels,
            const char *extra_le, double value)
{
        gboolean any = extra_le != NULL || (labels != NULL && labels[0] != NULL);
        gboolean first = TRUE;

        g_string_append(writer->out, writer->family);
        g_string_append(writer->out, suffix);
        if (any)
                g_string_append_c(writer->out, '{');
        for (guint i = 0; labels != NULL && labels[i] != NULL && labels[i + 1] != NULL; i += 2) {
                g_string_append_printf(writer->out, "%s%s=\"", first ? "" : ",", labels[i]);
                append_escaped(writer->out, labels[i + 1], TRUE);
                g_string_append_c(writer->out, '"');
                first = FALSE;
        }
        if (extra_le != NULL)
                g_string_append_printf(writer->out, "%sle=\"%s\"", first ? "" : ",", extra_le);
        if (any)
                g_string_append_c(writer->out, '}');
        g_string_append_c(writer->out, ' ');
        vt_metrics_append_value(writer->out, value);
        g_string_append_c(writer->out, '\n');
}

static gboolean
labels_are_valid(const char *const *labels)
{
        guint i;

        for (i = 0; labels != NULL && labels[i] != NULL; i += 2) {
                if (!vt_metrics_label_name_is_valid(labels[i]) || labels[i + 1] == NULL)
                        return FALSE;
                if (g_str_equal(labels[i], "le"))
                        return FALSE;
        }
        return TRUE;
}

/**
 * vt_metrics_writer_sample:
 * @writer: a writer, with a gauge or counter family announced
 * @labels: (nullable) (array zero-terminated=1): label names and values,
 *     alternating: `{"guest", name, NULL}`; values are escaped
 * @value: the sample's value
 *
 * Writes one sample of the current family.
 */
void
vt_metrics_writer_sample(VtMetricsWriter *writer, const char *const *labels, double value)
{
        g_return_if_fail(writer != NULL && writer->family != NULL && writer->out != NULL);
        g_return_if_fail(writer->type != VT_METRICS_HISTOGRAM);
        g_return_if_fail(labels_are_valid(labels));

        append_line(writer, "", labels, NULL, value);
}

/**
 * vt_metrics_writer_histogram:
 * @writer: a writer, with a histogram family announced
 * @labels: (nullable) (array zero-terminated=1): as for
 *     vt_metrics_writer_sample()
 * @bounds: (array length=n_bounds): the buckets' upper bounds, rising
 * @counts: (array): @n_bounds + 1 counts: how many observations fell in
 *     each bucket alone (at most its bound, above the one before), the
 *     last above every bound
 * @n_bounds: how many bounds
 * @sum: the sum of the observations
 *
 * Writes one histogram: its cumulative `_bucket` series up to `+Inf`,
 * `_sum` and `_count`.
 */
void
vt_metrics_writer_histogram(VtMetricsWriter *writer, const char *const *labels,
                            const double *bounds, const guint64 *counts, guint n_bounds, double sum)
{
        guint64 cumulative = 0;

        g_return_if_fail(writer != NULL && writer->family != NULL && writer->out != NULL);
        g_return_if_fail(writer->type == VT_METRICS_HISTOGRAM);
        g_return_if_fail(labels_are_valid(labels));
        g_return_if_fail(n_bounds == 0 || bounds != NULL);
        g_return_if_fail(counts != NULL);

        for (guint i = 0; i <= n_bounds; i++) {
                g_autoptr(GString) le = g_string_new(NULL);

                cumulative += counts[i];
                vt_metrics_append_value(le, i < n_bounds ? bounds[i] : INFINITY);
                append_line(writer, "_bucket", labels, le->str, (double)cumulative);
        }
        append_line(writer, "_sum", labels, NULL, sum);
        append_line(writer, "_count", labels, NULL, (double)cumulative);
}

/**
 * vt_metrics_writer_end:
 * @writer: a writer
 * @ret_length: (out) (optional): the text's length
 *
 * Takes the exposition; @writer is left empty and is freed with
 * vt_metrics_writer_free().
 *
 * Returns: (transfer full): the exposition, UTF-8 text
 */
char *
vt_metrics_writer_end(VtMetricsWriter *writer, gsize *ret_length)
{
        GString *out;

        g_return_val_if_fail(writer != NULL && writer->out != NULL, NULL);

        out = g_steal_pointer(&writer->out);
        if (ret_length != NULL)
                *ret_length = out->len;
        return g_string_free(out, FALSE);
}
