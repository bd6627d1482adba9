/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtide's policy in libvirt domain <metadata>: parsing and writing it back. */
#include "host/libvirt/libvirt-metadata.h"

#include <string.h>

#define MIB (G_GUINT64_CONSTANT(1) << 20)
#define NS  "xmlns:vmtide='" VT_LIBVIRT_METADATA_URI "'"

typedef struct {
        const char *name;
        const char *xml;
        gboolean ok;
        VtLibvirtPolicy policy; /* expected, when ok */
        const char *error;      /* a substring of the error, when not ok */
} Case;

static const Case cases[] = {
    {"empty-element", "<vmtide:policy " NS "/>", TRUE, {{0}, FALSE}, NULL},
    {"all",
     "<vmtide:policy " NS ">\n  <vmtide:min unit='MiB'>256</vmtide:min>\n"
     "  <vmtide:max unit='GiB'>2</vmtide:max>\n  <vmtide:shares>2000</vmtide:shares>\n"
     "  <vmtide:balloon opt-out='yes'/>\n  <vmtide:ksm opt-out='yes'/>\n</vmtide:policy>",
     TRUE,
     {{256 * MIB, 2048 * MIB, 2000, TRUE}, TRUE},
     NULL},
    {"default-unit-kib",
     "<policy><min>262144</min></policy>",
     TRUE,
     {{256 * MIB, 0, 0, FALSE}, FALSE},
     NULL},
    {"bytes",
     "<p:policy xmlns:p='x'><p:max unit='b'>100000001</p:max></p:policy>",
     TRUE,
     {{0, 100000001, 0, FALSE}, FALSE},
     NULL},
    {"opt-out-no",
     "<policy><balloon opt-out='no'/><ksm opt-out='no'/></policy>",
     TRUE,
     {{0}, FALSE},
     NULL},
    {"spaces-around-number",
     "<policy><shares> 7 </shares></policy>",
     TRUE,
     {{0, 0, 7, FALSE}, FALSE},
     NULL},
    {"not-xml", "<policy><min>", FALSE, {{0}, FALSE}, ""},
    {"garbage", "\x01\x02 lots", FALSE, {{0}, FALSE}, ""},
    {"wrong-root", "<memory/>", FALSE, {{0}, FALSE}, "expected <policy>"},
    {"unknown-element",
     "<policy><minimum>1</minimum></policy>",
     FALSE,
     {{0}, FALSE},
     "unknown element <minimum>"},
    {"nested", "<policy><min><x/></min></policy>", FALSE, {{0}, FALSE}, "nothing nests"},
    {"unknown-unit",
     "<policy><min unit='furlong'>1</min></policy>",
     FALSE,
     {{0}, FALSE},
     "unknown unit"},
    {"negative", "<policy><min>-1</min></policy>", FALSE, {{0}, FALSE}, "not a size"},
    {"not-a-number",
     "<policy><max unit='MiB'>lots</max></policy>",
     FALSE,
     {{0}, FALSE},
     "not a size"},
    {"too-big", "<policy><max unit='TiB'>17</max></policy>", FALSE, {{0}, FALSE}, "16 TiB"},
    /* Leaked the first unit (found by tests/fuzz/fuzz-libvirt-metadata). */
    {"unit-twice",
     "<policy><max unit='MiB' unit='GiB'>1</max></policy>",
     FALSE,
     {{0}, FALSE},
     "'unit' given twice"},
    {"overflow",
     "<policy><max unit='b'>99999999999999999999999</max></policy>",
     FALSE,
     {{0}, FALSE},
     "not a size"},
    {"max-zero", "<policy><max>0</max></policy>", FALSE, {{0}, FALSE}, "cannot be 0"},
    {"min-above-max",
     "<policy><min unit='GiB'>2</min><max unit='GiB'>1</max></policy>",
     FALSE,
     {{0}, FALSE},
     "above <max>"},
    /* The floor: a maximum of 1 byte ballooned the guest to nothing. */
    {"max-1-byte",
     "<policy><max unit='b'>1</max></policy>",
     FALSE,
     {{0}, FALSE},
     "max 1 B is below the safe floor of 64 MiB"},
    {"min-under-floor",
     "<policy><min unit='MiB'>8</min></policy>",
     FALSE,
     {{0}, FALSE},
     "min 8 MiB is below the safe floor of 64 MiB"},
    {"shares-zero", "<policy><shares>0</shares></policy>", FALSE, {{0}, FALSE}, "not 1 to"},
    {"shares-too-many",
     "<policy><shares>100001</shares></policy>",
     FALSE,
     {{0}, FALSE},
     "not 1 to"},
    {"opt-out-maybe",
     "<policy><ksm opt-out='maybe'/></policy>",
     FALSE,
     {{0}, FALSE},
     "expected yes or no"},
    {"unknown-attribute",
     "<policy><shares unit='MiB'>3</shares></policy>",
     FALSE,
     {{0}, FALSE},
     "unknown attribute"},
};

static void
assert_policy_eq(const VtLibvirtPolicy *a, const VtLibvirtPolicy *b)
{
        g_assert_cmpuint(a->balloon.min_bytes, ==, b->balloon.min_bytes);
        g_assert_cmpuint(a->balloon.max_bytes, ==, b->balloon.max_bytes);
        g_assert_cmpuint(a->balloon.shares, ==, b->balloon.shares);
        g_assert_cmpint(a->balloon.opt_out, ==, b->balloon.opt_out);
        g_assert_cmpint(a->ksm_opt_out, ==, b->ksm_opt_out);
}

static void
test_parse(gconstpointer data)
{
        const Case *c = data;
        g_autoptr(GError) error = NULL;
        VtLibvirtPolicy policy = {{12345}, TRUE};
        gboolean ok = vt_libvirt_policy_parse(c->xml, &policy, &error);

        if (c->ok) {
                g_assert_no_error(error);
                g_assert_true(ok);
                assert_policy_eq(&policy, &c->policy);
                return;
        }
        g_assert_false(ok);
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_nonnull(strstr(error->message, c->error));
        /* Nothing written on failure. */
        g_assert_cmpuint(policy.balloon.min_bytes, ==, 12345);
}

/* What vmtide writes, it reads back the same. */
static void
test_round_trip(void)
{
        static const VtLibvirtPolicy policies[] = {
            {{0}, FALSE},
            {{256 * MIB, 1024 * MIB, 500, FALSE}, TRUE},
            {{100000001, 0, 0, TRUE}, FALSE},
            {{0, 16 * 1024 * 1024 * MIB, 100000, TRUE}, TRUE},
        };

        for (guint i = 0; i < G_N_ELEMENTS(policies); i++) {
                g_autofree char *xml = vt_libvirt_policy_format(&policies[i]);
                g_autoptr(GError) error = NULL;
                VtLibvirtPolicy back = {{0}, FALSE};

                g_test_message("%s", xml);
                /* No namespace of its own: libvirt gives it one. */
                g_assert_true(g_str_has_prefix(xml, "<policy>"));
                g_assert_null(strstr(xml, "xmlns"));
                g_assert_true(vt_libvirt_policy_parse(xml, &back, &error));
                g_assert_no_error(error);
                assert_policy_eq(&back, &policies[i]);
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/libvirt-metadata/parse/%s", cases[i].name);

                g_test_add_data_func(path, &cases[i], test_parse);
        }
        g_test_add_func("/host/libvirt-metadata/round-trip", test_round_trip);
        return g_test_run();
}
