/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of common/vt-size.c: the one size formatter (each style, byte for byte), the memory
 * bound. */
#include <math.h>

#include "common/vt-size.h"

typedef struct {
        double bytes;
        VtSizeStyle style;
        const char *text;
} SizeCase;

#define MiB ((double)VT_SIZE_MIB)

static const SizeCase size_cases[] = {
    /* the CLI's tables (vt_size_format()) */
    {100, VT_SIZE_STYLE_TABLE, "100 B"},
    {1024, VT_SIZE_STYLE_TABLE, "1.0 KiB"},
    {512 * MiB, VT_SIZE_STYLE_TABLE, "512.0 MiB"},
    {1536 * MiB, VT_SIZE_STYLE_TABLE, "1.5 GiB"},
    {1023.96 * MiB, VT_SIZE_STYLE_TABLE, "1.0 GiB"},
    /* the balloon policies' reasons */
    {512 * MiB, VT_SIZE_STYLE_SHORT, "512 MiB"},
    {1536 * MiB, VT_SIZE_STYLE_SHORT, "1.5 GiB"},
    {-40 * MiB, VT_SIZE_STYLE_SHORT, "-40 MiB"},
    {12 * 1024, VT_SIZE_STYLE_SHORT, "12 KiB"},
    {0, VT_SIZE_STYLE_SHORT, "0 B"},
    {NAN, VT_SIZE_STYLE_SHORT, "?"},
    /* the daemon's log lines: whole MiB, rounded, never GiB */
    {512 * MiB, VT_SIZE_STYLE_MIB, "512 MiB"},
    {2048 * MiB, VT_SIZE_STYLE_MIB, "2048 MiB"},
    {300.6 * MiB, VT_SIZE_STYLE_MIB, "301 MiB"},
    {0, VT_SIZE_STYLE_MIB, "0 MiB"},
    /* the KSM tuner's reasons */
    {512, VT_SIZE_STYLE_DECIMAL, "512 bytes"},
    {64 * MiB, VT_SIZE_STYLE_DECIMAL, "64.0 MiB"},
    {2.1 * 1024 * MiB, VT_SIZE_STYLE_DECIMAL, "2.1 GiB"},
    {-1.5 * MiB, VT_SIZE_STYLE_DECIMAL, "-1.5 MiB"},
    {1023.96 * MiB, VT_SIZE_STYLE_DECIMAL, "1024.0 MiB"},
};

static void
test_size_text(void)
{
        for (guint i = 0; i < G_N_ELEMENTS(size_cases); i++) {
                const SizeCase *c = &size_cases[i];

                g_assert_cmpstr(vt_size_to_text(c->bytes, c->style).str, ==, c->text);
        }
}

/* VT_SIZE_STR() is a printf argument that lives to the end of the call. */
static void
test_size_str(void)
{
        g_autofree char *line =
            g_strdup_printf("%s -> %s", VT_SIZE_STR(VT_SIZE_GIB, VT_SIZE_STYLE_MIB),
                            VT_SIZE_STR(VT_SIZE_GIB, VT_SIZE_STYLE_SHORT));
        g_autofree char *table = vt_size_format(G_GUINT64_CONSTANT(1) << 40);

        g_assert_cmpstr(line, ==, "1024 MiB -> 1.0 GiB");
        g_assert_cmpstr(table, ==, "1.0 TiB");
}

/* Memory sizes stop at VT_SIZE_MEMORY_MAX (4 PiB); vt_size_parse() goes on to 2^64 - 1. */
static void
test_size_parse_memory(void)
{
        static const struct {
                const char *text;
                gboolean ok;
        } cases[] = {
            {"0", TRUE},
            {"512M", TRUE},
            {"4P", TRUE},
            {"4096T", TRUE},
            {"4503599627370496", TRUE},
            {"4503599627370497", FALSE},
            {"4.5P", FALSE},
            {"16383P", FALSE},
            {"18446744073709551615", FALSE},
            {"16384P", FALSE},
            {"lots", FALSE},
            {"-1", FALSE},
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                guint64 bytes = 42, unbounded = 0;
                gboolean ok = vt_size_parse_memory(cases[i].text, &bytes, &error);

                g_assert_cmpint(ok, ==, cases[i].ok);
                if (ok) {
                        g_assert_no_error(error);
                        g_assert_true(vt_size_parse(cases[i].text, &unbounded, NULL));
                        g_assert_cmpuint(bytes, ==, unbounded);
                        g_assert_cmpuint(bytes, <=, VT_SIZE_MEMORY_MAX);
                } else {
                        g_assert_error(error, VT_SIZE_ERROR, VT_SIZE_ERROR_INVALID);
                        g_assert_cmpuint(bytes, ==, 42); /* written on success only */
                }
        }
        {
                g_autoptr(GError) error = NULL;
                guint64 bytes;

                g_assert_false(vt_size_parse_memory("16383P", &bytes, &error));
                g_assert_cmpstr(error->message, ==,
                                "invalid size '16383P': too large (at most 4 PiB, the most memory "
                                "a machine can address)");
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/common/size/text", test_size_text);
        g_test_add_func("/common/size/str", test_size_str);
        g_test_add_func("/common/size/parse-memory", test_size_parse_memory);
        return g_test_run();
}
