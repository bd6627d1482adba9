/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtide's per-domain policy in libvirt domain <metadata> (issue #6). */

/*
 * A libvirt domain carries its vmtide policy as one element in vmtide's
 * own namespace, which libvirt keeps as given and returns from
 * virDomainGetMetadata(VIR_DOMAIN_METADATA_ELEMENT, VT_LIBVIRT_METADATA_URI):
 *
 *   <vmtide:policy xmlns:vmtide="https://vmtide.org/xmlns/policy/1">
 *     <vmtide:min unit="MiB">256</vmtide:min>
 *     <vmtide:max unit="GiB">2</vmtide:max>
 *     <vmtide:shares>2000</vmtide:shares>
 *     <vmtide:balloon opt-out="no"/>
 *     <vmtide:ksm opt-out="yes"/>
 *   </vmtide:policy>
 *
 * Every child is optional. Sizes take libvirt's units, read by
 * vt_libvirt_parse_scaled() (`b`/`bytes`, `KiB` or `k`, `MiB`/`M`, `KB`
 * for 1000, ... with libvirt's default KiB);
 * the prefix may be any, or none: elements are matched by local name.
 * The element is written by hand or by `vmtide policy` through the
 * daemon, so a mistake in it (an unknown element, a bad number) is an
 * error that names it rather than a setting silently ignored. Pure: the
 * XML comes in as a string.
 */
#include "host/libvirt/libvirt-metadata.h"

#include <string.h>

#define MAX_BYTES  (G_GUINT64_CONSTANT(16) << 40)
#define MAX_SHARES 100000

typedef struct {
        VtLibvirtPolicy policy;
        guint depth;
        char *element; /* the child being read, local name */
        char *unit;    /* its unit attribute */
        GString *text; /* its text */
        gboolean has_min;
        gboolean has_max;
} Parser;

static const char *
local_name(const char *name)
{
        const char *colon = strchr(name, ':');

        return colon != NULL ? colon + 1 : name;
}

/**
 * vt_libvirt_set_markup_error:
 * @context: the parse under way
 * @error: (nullable): set to %G_MARKUP_ERROR_INVALID_CONTENT
 * @document: what is parsed, for the message ("libvirt domain XML")
 * @format: what is wrong, printf-style
 * @...: its arguments
 *
 * The error of both libvirt XML parsers: the document and the line first.
 */
void
vt_libvirt_set_markup_error(GMarkupParseContext *context, GError **error, const char *document,
                            const char *format, ...)
{
        g_autofree char *what = NULL;
        int line = 0, column = 0;
        va_list ap;

        va_start(ap, format);
        what = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_markup_parse_context_get_position(context, &line, &column);
        g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, "%s, line %d: %s",
                    document, line, what);
}

#define set_invalid(context, error, ...)                                                           \
        vt_libvirt_set_markup_error(context, error, "vmtide policy metadata", __VA_ARGS__)

/*
 * libvirt's unit suffixes, as virScaleInteger() reads them: any case; `b`,
 * `byte` or `bytes`; a prefix (k, m, g, t, p, e) alone or followed by `iB`
 * is a power of 1024, followed by `B` a power of 1000. No unit is KiB, the
 * default of <memory> and of libvirt's other memory elements.
 *
 * Returns: the multiplier, or 0 when @unit is not one of libvirt's
 */
static guint64
scaled_unit_bytes(const char *unit)
{
        static const char prefixes[] = "kmgtpe";
        const char *prefix;
        guint64 base, scale = 1;

        if (unit == NULL || unit[0] == '\0')
                return 1024;
        if (g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "byte") == 0 ||
            g_ascii_strcasecmp(unit, "bytes") == 0)
                return 1;
        prefix = strchr(prefixes, g_ascii_tolower(unit[0]));
        if (prefix == NULL)
                return 0;
        if (unit[1] == '\0' || g_ascii_strcasecmp(unit + 1, "iB") == 0)
                base = 1024;
        else if (g_ascii_strcasecmp(unit + 1, "B") == 0)
                base = 1000;
        else
                return 0;
        /* At most 1024^6 = 2^60: no overflow. */
        for (const char *c = prefixes; c <= prefix; c++)
                scale *= base;
        return scale;
}

/**
 * vt_libvirt_parse_scaled:
 * @value: the element's text, decimal digits only (as libvirt writes and
 *     accepts it: no sign, no blanks)
 * @unit: (nullable): its `unit` attribute; %NULL or empty for KiB
 * @ret_bytes: (out): @value × @unit in bytes, written only on success
 * @error: %G_MARKUP_ERROR_INVALID_CONTENT when @unit is not one of
 *     libvirt's (`unknown unit`), @value is not digits or the product does
 *     not fit in 64 bits (both `is not a size`)
 *
 * Reads a libvirt scaled integer such as `<memory unit='MiB'>512</memory>`
 * with libvirt's own units: `KB` is 1000 bytes, `K`, `k` and `KiB` are
 * 1024, likewise `MB`, `M`, `MiB` up to `E`, in any case.
 *
 * Returns: %TRUE on success
 */
gboolean
vt_libvirt_parse_scaled(const char *value, const char *unit, guint64 *ret_bytes, GError **error)
{
        guint64 scale, number = 0;

        g_return_val_if_fail(value != NULL && ret_bytes != NULL, FALSE);

        scale = scaled_unit_bytes(unit);
        if (scale == 0) {
                g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                            "unknown unit '%s' (libvirt's are b, KB, KiB, MB, MiB, ... EiB)", unit);
                return FALSE;
        }
        if (value[0] == '\0') {
                g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                                    "'' is not a size (expected digits)");
                return FALSE;
        }
        for (const char *c = value; *c != '\0'; c++) {
                guint digit;

                if (!g_ascii_isdigit(*c)) {
                        g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                                    "'%s' is not a size (expected digits)", value);
                        return FALSE;
                }
                digit = (guint)(*c - '0');
                if (number > (G_MAXUINT64 - digit) / 10) {
                        g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                                    "'%s' is not a size that fits in 64 bits", value);
                        return FALSE;
                }
                number = number * 10 + digit;
        }
        if (number > G_MAXUINT64 / scale) {
                g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                            "'%s' %s is not a size that fits in 64 bits", value,
                            unit != NULL && unit[0] != '\0' ? unit : "KiB");
                return FALSE;
        }
        *ret_bytes = number * scale;
        return TRUE;
}

static gboolean
parse_opt_out(GMarkupParseContext *context, const char *element, const char **names,
              const char **values, gboolean *ret_value, GError **error)
{
        for (guint i = 0; names[i] != NULL; i++) {
                if (strcmp(names[i], "opt-out") != 0) {
                        set_invalid(context, error, "<%s>: unknown attribute '%s'", element,
                                    names[i]);
                        return FALSE;
                }
                if (strcmp(values[i], "yes") != 0 && strcmp(values[i], "no") != 0) {
                        set_invalid(context, error, "<%s opt-out='%s'>: expected yes or no",
                                    element, values[i]);
                        return FALSE;
                }
                *ret_value = strcmp(values[i], "yes") == 0;
        }
        return TRUE;
}

static void
on_start(GMarkupParseContext *context, const char *element_name, const char **names,
         const char **values, gpointer user_data, GError **error)
{
        Parser *p = user_data;
        const char *name = local_name(element_name);

        p->depth++;
        if (p->depth == 1) {
                if (strcmp(name, "policy") != 0)
                        set_invalid(context, error, "<%s>: expected <policy>", element_name);
                return;
        }
        if (p->depth > 2) {
                set_invalid(context, error, "<%s>: nothing nests in <%s>", element_name,
                            p->element);
                return;
        }
        g_free(p->element);
        p->element = g_strdup(name);
        g_clear_pointer(&p->unit, g_free);
        g_string_truncate(p->text, 0);

        if (strcmp(name, "balloon") == 0) {
                parse_opt_out(context, name, names, values, &p->policy.balloon.opt_out, error);
        } else if (strcmp(name, "ksm") == 0) {
                parse_opt_out(context, name, names, values, &p->policy.ksm_opt_out, error);
        } else if (strcmp(name, "min") == 0 || strcmp(name, "max") == 0 ||
                   strcmp(name, "shares") == 0) {
                for (guint i = 0; names[i] != NULL; i++) {
                        if (strcmp(names[i], "unit") != 0 || strcmp(name, "shares") == 0) {
                                set_invalid(context, error, "<%s>: unknown attribute '%s'", name,
                                            names[i]);
                                return;
                        }
                        if (p->unit != NULL) {
                                set_invalid(context, error, "<%s>: attribute 'unit' given twice",
                                            name);
                                return;
                        }
                        p->unit = g_strdup(values[i]);
                }
        } else {
                set_invalid(context, error,
                            "unknown element <%s> (known: min, max, shares, balloon, ksm)",
                            element_name);
        }
}

static gboolean
parse_u64(const char *text, guint64 *ret_value)
{
        g_autofree char *copy = g_strstrip(g_strdup(text));
        guint64 value = 0;

        if (copy[0] == '\0')
                return FALSE;
        for (const char *c = copy; *c != '\0'; c++) {
                if (!g_ascii_isdigit(*c) || value > (G_MAXUINT64 - (guint64)(*c - '0')) / 10)
                        return FALSE;
                value = value * 10 + (guint64)(*c - '0');
        }
        *ret_value = value;
        return TRUE;
}

static void
on_end(GMarkupParseContext *context, const char *element_name, gpointer user_data, GError **error)
{
        Parser *p = user_data;
        const char *name = local_name(element_name);
        g_autoptr(GError) local_error = NULL;
        g_autofree char *text = NULL;
        guint64 value = 0;

        p->depth--;
        if (p->depth != 1)
                return;
        if (strcmp(name, "shares") == 0) {
                if (!parse_u64(p->text->str, &value) || value < 1 || value > MAX_SHARES) {
                        set_invalid(context, error, "<shares>: '%s' is not 1 to %d", p->text->str,
                                    MAX_SHARES);
                        return;
                }
                p->policy.balloon.shares = (guint)value;
                return;
        }
        if (strcmp(name, "min") != 0 && strcmp(name, "max") != 0)
                return;
        /* Hand-written: blanks around the number are forgiven. */
        text = g_strstrip(g_strdup(p->text->str));
        if (!vt_libvirt_parse_scaled(text, p->unit, &value, &local_error)) {
                set_invalid(context, error, "<%s>: %s", name, local_error->message);
                return;
        }
        if (value > MAX_BYTES) {
                set_invalid(context, error, "<%s>: '%s' is not a size of at most 16 TiB", name,
                            text);
                return;
        }
        if (strcmp(name, "min") == 0) {
                p->policy.balloon.min_bytes = value;
                p->has_min = TRUE;
        } else {
                if (value == 0) {
                        set_invalid(context, error, "<max>: cannot be 0");
                        return;
                }
                p->policy.balloon.max_bytes = value;
                p->has_max = TRUE;
        }
}

static void
on_text(GMarkupParseContext *context, const char *text, gsize length, gpointer user_data,
        GError **error)
{
        Parser *p = user_data;

        (void)context;
        (void)error;
        if (p->depth == 2)
                g_string_append_len(p->text, text, (gssize)length);
}

/**
 * vt_libvirt_policy_parse:
 * @xml: what virDomainGetMetadata() returned for %VT_LIBVIRT_METADATA_URI
 * @ret_policy: (out): the policy, written only on success
 * @error: %G_MARKUP_ERROR naming the line and the element when @xml is not
 *     well-formed or says something vmtide does not take
 *
 * Returns: %TRUE on success
 */
gboolean
vt_libvirt_policy_parse(const char *xml, VtLibvirtPolicy *ret_policy, GError **error)
{
        static const GMarkupParser parser = {
            .start_element = on_start,
            .end_element = on_end,
            .text = on_text,
        };
        g_autoptr(GMarkupParseContext) context = NULL;
        g_autofree char *problem = NULL;
        Parser p = {.text = g_string_new(NULL)};
        gboolean ok;

        g_return_val_if_fail(xml != NULL && ret_policy != NULL, FALSE);

        context = g_markup_parse_context_new(&parser, G_MARKUP_PREFIX_ERROR_POSITION, &p, NULL);
        ok = g_markup_parse_context_parse(context, xml, -1, error) &&
             g_markup_parse_context_end_parse(context, error);
        if (ok && p.has_min && p.has_max &&
            p.policy.balloon.min_bytes > p.policy.balloon.max_bytes) {
                g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                            "vmtide policy metadata: <min> %" G_GUINT64_FORMAT
                            " bytes is above <max> %" G_GUINT64_FORMAT " bytes",
                            p.policy.balloon.min_bytes, p.policy.balloon.max_bytes);
                ok = FALSE;
        }
        if (ok && !vt_balloon_guest_config_check(&p.policy.balloon, 0, &problem)) {
                g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                            "vmtide policy metadata: %s", problem);
                ok = FALSE;
        }
        if (ok)
                *ret_policy = p.policy;
        g_string_free(p.text, TRUE);
        g_free(p.element);
        g_free(p.unit);
        return ok;
}

static void
append_size(GString *xml, const char *name, guint64 bytes)
{
        if (bytes % (G_GUINT64_CONSTANT(1) << 20) == 0)
                g_string_append_printf(xml, "  <%s unit='MiB'>%" G_GUINT64_FORMAT "</%s>\n", name,
                                       bytes >> 20, name);
        else
                g_string_append_printf(xml, "  <%s unit='b'>%" G_GUINT64_FORMAT "</%s>\n", name,
                                       bytes, name);
}

/**
 * vt_libvirt_policy_format:
 * @policy: a policy
 *
 * The element is written without a namespace: virDomainSetMetadata() puts
 * it, and its children, in the namespace it is given
 * (%VT_LIBVIRT_METADATA_URI, prefix %VT_LIBVIRT_METADATA_PREFIX), and
 * refuses an element that declares one itself.
 *
 * Returns: (transfer full): the element to give virDomainSetMetadata(), in
 *     the form vt_libvirt_policy_parse() reads back; fields at their
 *     default (0, %FALSE) are left out
 */
char *
vt_libvirt_policy_format(const VtLibvirtPolicy *policy)
{
        const VtBalloonGuestConfig *b;
        GString *xml;

        g_return_val_if_fail(policy != NULL, NULL);

        b = &policy->balloon;
        xml = g_string_new("<policy>\n");
        if (b->min_bytes > 0)
                append_size(xml, "min", b->min_bytes);
        if (b->max_bytes > 0)
                append_size(xml, "max", b->max_bytes);
        if (b->shares > 0)
                g_string_append_printf(xml, "  <shares>%u</shares>\n", b->shares);
        if (b->opt_out)
                g_string_append(xml, "  <balloon opt-out='yes'/>\n");
        if (policy->ksm_opt_out)
                g_string_append(xml, "  <ksm opt-out='yes'/>\n");
        g_string_append(xml, "</policy>\n");
        return g_string_free(xml, FALSE);
}
