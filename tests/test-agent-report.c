/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the validation of agent lines: every way a guest can lie. */
#include <string.h>

#include "host/agent-channel/agent-channel-report.h"
#include "vt-autocleanups.h"

#define MEM                                                                                        \
        "\"mem\":{\"total\":1000000,\"free\":500000,\"available\":600000,\"buffers\":1000,"        \
        "\"cached\":2000,\"shmem\":0,\"anon\":300000,\"swap_total\":0,\"swap_free\":0}"
#define VM                                                                                         \
        "\"vm\":{\"pgmajfault\":10,\"pswpin\":0,\"pswpout\":0,\"oom_kill\":0,"                     \
        "\"allocstall\":1,\"pgscan_direct\":100}"
#define PSI                                                                                        \
        "\"psi\":{\"some_avg10\":1.5,\"some_avg60\":0.5,\"some_avg300\":0.1,"                      \
        "\"some_total_us\":1000,\"full_avg10\":0,\"full_avg60\":0,\"full_avg300\":0,"              \
        "\"full_total_us\":500}"
#define AGENT "\"agent\":{\"cpu_us\":100,\"rss_bytes\":100000,\"dropped_requests\":0}"
#define HEAD(seq)                                                                                  \
        "{\"v\":1,\"type\":\"report\",\"seq\":" seq ",\"reason\":\"periodic\","                    \
        "\"uptime_ms\":1000,\"interval_ms\":5000,"

/* Revision 2 members: one zram swap device, zswap, zswap counters. */
#define ZDEV(name, orig, compr, used)                                                              \
        "{\"name\":\"" name "\",\"orig_data_size\":" orig ",\"compr_data_size\":" compr            \
        ",\"mem_used_total\":" used ",\"mem_limit\":0,\"huge_pages\":3,\"swap\":true}"
#define ZRAM "\"zram\":[" ZDEV("zram0", "400000", "100000", "120000") "]"
#define MEM2 "\"mem\":{\"total\":1000000,\"available\":600000,\"zswap\":5000,\"zswapped\":20000}"
#define ZMEM "\"mem\":{\"total\":1000000}"

/* The baseline every "previous" case is checked against. */
static const char *const baseline = HEAD("5") MEM "," VM "," PSI "," AGENT "}";

typedef enum {
        OK,
        INVALID,
        BACKWARDS,
} Expect;

typedef struct {
        const char *name;
        const char *line;
        gboolean after_baseline;
        Expect expect;
} ReportCase;

static const ReportCase report_cases[] = {
    {"full", HEAD("6") MEM "," VM "," PSI "," AGENT "}", TRUE, OK},
    {"minimal", HEAD("1") "\"mem\":{\"total\":1}}", FALSE, OK},
    {"unknown-members", HEAD("6") MEM ",\"x-future\":{\"a\":[1,2]},\"vm\":{\"x-new\":\"s\"}}", TRUE,
     OK},
    {"hello",
     "{\"v\":1,\"type\":\"hello\",\"seq\":1,\"version\":\"0.1.0\","
     "\"interval_ms\":5000,\"features\":[\"psi-trigger\",7]}",
     TRUE, OK},
    {"after-hello-seq-restarts", HEAD("1") MEM "}", FALSE, OK},
    {"array", "[1,2,3]", FALSE, INVALID},
    {"no-version", "{\"type\":\"report\",\"seq\":1}", FALSE, INVALID},
    {"version-2", "{\"v\":2,\"type\":\"report\",\"seq\":1}", FALSE, INVALID},
    {"version-string", "{\"v\":\"1\",\"type\":\"report\",\"seq\":1}", FALSE, INVALID},
    {"type-unknown", "{\"v\":1,\"type\":\"gift\",\"seq\":1,\"interval_ms\":5000}", FALSE, INVALID},
    {"type-number", "{\"v\":1,\"type\":3,\"seq\":1}", FALSE, INVALID},
    {"seq-zero", HEAD("0") MEM "}", FALSE, INVALID},
    {"seq-negative", HEAD("-4") MEM "}", FALSE, INVALID},
    {"seq-float", HEAD("4.5") MEM "}", FALSE, INVALID},
    {"seq-huge", HEAD("18446744073709551615") MEM "}", FALSE, INVALID},
    {"interval-too-short",
     "{\"v\":1,\"type\":\"report\",\"seq\":1,\"reason\":\"periodic\",\"uptime_ms\":1,"
     "\"interval_ms\":99," MEM "}",
     FALSE, INVALID},
    {"interval-too-long",
     "{\"v\":1,\"type\":\"report\",\"seq\":1,\"reason\":\"periodic\",\"uptime_ms\":1,"
     "\"interval_ms\":3600001," MEM "}",
     FALSE, INVALID},
    {"reason-unknown",
     "{\"v\":1,\"type\":\"report\",\"seq\":1,\"reason\":\"boredom\",\"uptime_ms\":1,"
     "\"interval_ms\":5000," MEM "}",
     FALSE, INVALID},
    {"no-mem", HEAD("1") "\"vm\":{}}", FALSE, INVALID},
    {"mem-null", HEAD("1") "\"mem\":null}", FALSE, INVALID},
    {"total-zero", HEAD("1") "\"mem\":{\"total\":0}}", FALSE, INVALID},
    {"total-17-tib", HEAD("1") "\"mem\":{\"total\":18691697672192}}", FALSE, INVALID},
    {"total-uint64-max", HEAD("1") "\"mem\":{\"total\":18446744073709551615}}", FALSE, INVALID},
    {"total-string", HEAD("1") "\"mem\":{\"total\":\"lots\"}}", FALSE, INVALID},
    {"available-over-total", HEAD("1") "\"mem\":{\"total\":100,\"available\":101}}", FALSE,
     INVALID},
    {"free-over-total", HEAD("1") "\"mem\":{\"total\":100,\"free\":200}}", FALSE, INVALID},
    {"cached-over-total", HEAD("1") "\"mem\":{\"total\":100,\"cached\":200}}", FALSE, INVALID},
    {"swap-free-over-total",
     HEAD("1") "\"mem\":{\"total\":100,\"swap_total\":10,\"swap_free\":11}}", FALSE, INVALID},
    {"swap-half", HEAD("1") "\"mem\":{\"total\":100,\"swap_total\":10}}", FALSE, INVALID},
    {"free-negative", HEAD("1") "\"mem\":{\"total\":100,\"free\":-1}}", FALSE, INVALID},
    {"free-float", HEAD("1") "\"mem\":{\"total\":100,\"free\":1.5}}", FALSE, INVALID},
    {"free-bool", HEAD("1") "\"mem\":{\"total\":100,\"free\":true}}", FALSE, INVALID},
    {"vm-negative", HEAD("1") "\"mem\":{\"total\":1},\"vm\":{\"oom_kill\":-3}}", FALSE, INVALID},
    {"vm-array", HEAD("1") "\"mem\":{\"total\":1},\"vm\":[1]}", FALSE, INVALID},
    {"psi-nan",
     HEAD("1") "\"mem\":{\"total\":1},\"psi\":{\"some_avg10\":NaN,\"some_avg60\":0,"
               "\"some_avg300\":0,\"some_total_us\":1}}",
     FALSE, INVALID},
    {"psi-infinity",
     HEAD("1") "\"mem\":{\"total\":1},\"psi\":{\"some_avg10\":Infinity,\"some_avg60\":0,"
               "\"some_avg300\":0,\"some_total_us\":1}}",
     FALSE, INVALID},
    {"psi-over-100",
     HEAD("1") "\"mem\":{\"total\":1},\"psi\":{\"some_avg10\":100.5,\"some_avg60\":0,"
               "\"some_avg300\":0,\"some_total_us\":1}}",
     FALSE, INVALID},
    {"psi-negative",
     HEAD("1") "\"mem\":{\"total\":1},\"psi\":{\"some_avg10\":-0.5,\"some_avg60\":0,"
               "\"some_avg300\":0,\"some_total_us\":1}}",
     FALSE, INVALID},
    {"psi-partial", HEAD("1") "\"mem\":{\"total\":1},\"psi\":{\"some_total_us\":1}}", FALSE,
     INVALID},
    {"psi-string-avg",
     HEAD("1") "\"mem\":{\"total\":1},\"psi\":{\"some_avg10\":\"1\",\"some_avg60\":0,"
               "\"some_avg300\":0,\"some_total_us\":1}}",
     FALSE, INVALID},
    {"hello-long-version",
     "{\"v\":1,\"type\":\"hello\",\"seq\":1,\"interval_ms\":5000,\"version\":"
     "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
     FALSE, INVALID},
    {"hello-no-version", "{\"v\":1,\"type\":\"hello\",\"seq\":1,\"interval_ms\":5000}", FALSE,
     INVALID},
    {"seq-repeated", HEAD("5") MEM "," VM "," PSI "," AGENT "}", TRUE, BACKWARDS},
    {"seq-backwards", HEAD("4") MEM "}", TRUE, BACKWARDS},
    {"pgmajfault-backwards", HEAD("6") MEM ",\"vm\":{\"pgmajfault\":9}}", TRUE, BACKWARDS},
    {"psi-total-backwards",
     HEAD("6") MEM ",\"psi\":{\"some_avg10\":0,\"some_avg60\":0,\"some_avg300\":0,"
                   "\"some_total_us\":999}}",
     TRUE, BACKWARDS},
    {"cpu-backwards", HEAD("6") MEM ",\"agent\":{\"cpu_us\":99,\"rss_bytes\":1}}", TRUE, BACKWARDS},
    {"counter-missing-is-fine", HEAD("6") MEM "}", TRUE, OK},
    /* Revision 2: zram, zswap; each bounded. */
    {"rev2-full", HEAD("6") MEM2 "," ZRAM ",\"vm\":{\"zswpin\":1,\"zswpout\":2}}", TRUE, OK},
    {"zram-empty", HEAD("1") ZMEM ",\"zram\":[]}", FALSE, OK},
    {"zram-not-array", HEAD("1") ZMEM ",\"zram\":{}}", FALSE, INVALID},
    {"zram-not-object", HEAD("1") ZMEM ",\"zram\":[1]}", FALSE, INVALID},
    {"zram-bad-name", HEAD("1") ZMEM ",\"zram\":[" ZDEV("sda", "1", "1", "1") "]}", FALSE, INVALID},
    {"zram-name-suffix", HEAD("1") ZMEM ",\"zram\":[" ZDEV("zram0x", "1", "1", "1") "]}", FALSE,
     INVALID},
    {"zram-name-long",
     HEAD("1") ZMEM ",\"zram\":[" ZDEV("zram12345678901234567", "1", "1", "1") "]}", FALSE,
     INVALID},
    {"zram-missing-member",
     HEAD("1") ZMEM ",\"zram\":[{\"name\":\"zram0\",\"orig_data_size\":1,\"swap\":true}]}", FALSE,
     INVALID},
    {"zram-orig-huge", HEAD("1") ZMEM ",\"zram\":[" ZDEV("zram0", "17592186044417", "1", "1") "]}",
     FALSE, INVALID},
    {"zram-negative", HEAD("1") ZMEM ",\"zram\":[" ZDEV("zram0", "-1", "1", "1") "]}", FALSE,
     INVALID},
    {"zram-used-over-total", HEAD("1") ZMEM ",\"zram\":[" ZDEV("zram0", "1", "1", "1000001") "]}",
     FALSE, INVALID},
    {"zram-pools-over-total",
     HEAD("1") ZMEM
     ",\"zram\":[" ZDEV("zram0", "1", "1", "600000") "," ZDEV("zram1", "1", "1", "600000") "]}",
     FALSE, INVALID},
    {"zram-swap-string",
     HEAD("1") ZMEM ",\"zram\":[{\"name\":\"zram0\",\"orig_data_size\":1,"
                    "\"compr_data_size\":1,\"mem_used_total\":1,\"mem_limit\":0,\"huge_pages\":0,"
                    "\"swap\":\"yes\"}]}",
     FALSE, INVALID},
    {"zram-nine-devices",
     HEAD("1") ZMEM
     ",\"zram\":[" ZDEV("zram0", "1", "1", "1") "," ZDEV("zram1", "1", "1", "1") "," ZDEV(
         "zram2", "1", "1",
         "1") "," ZDEV("zram3", "1", "1",
                       "1") "," ZDEV("zram4", "1", "1",
                                     "1") "," ZDEV("zram5", "1", "1",
                                                   "1") "," ZDEV("zram6", "1", "1",
                                                                 "1") "," ZDEV("zram7", "1", "1",
                                                                               "1") "," ZDEV("zram"
                                                                                             "8",
                                                                                             "1",
                                                                                             "1",
                                                                                             "1") "]}",
     FALSE, INVALID},
    {"zswap-alone", HEAD("1") "\"mem\":{\"total\":10,\"zswap\":1}}", FALSE, INVALID},
    {"zswap-over-total", HEAD("1") "\"mem\":{\"total\":10,\"zswap\":11,\"zswapped\":11}}", FALSE,
     INVALID},
    {"zswapped-huge", HEAD("1") "\"mem\":{\"total\":10,\"zswap\":1,\"zswapped\":17592186044417}}",
     FALSE, INVALID},
    {"zswpin-string", HEAD("1") ZMEM ",\"vm\":{\"zswpin\":\"1\"}}", FALSE, INVALID},
    {"zswpin-first-report", HEAD("6") ZMEM ",\"vm\":{\"zswpin\":0}}", FALSE, OK},
    {"hello-revision-zero",
     "{\"v\":1,\"type\":\"hello\",\"seq\":1,\"version\":\"1\",\"interval_ms\":5000,"
     "\"revision\":0}",
     FALSE, INVALID},
    {"hello-revision-string",
     "{\"v\":1,\"type\":\"hello\",\"seq\":1,\"version\":\"1\",\"interval_ms\":5000,"
     "\"revision\":\"2\"}",
     FALSE, INVALID},
};

static json_object *
parse_json(const char *line)
{
        return json_tokener_parse(line);
}

static void
test_report_case(gconstpointer data)
{
        const ReportCase *c = data;
        g_autoptr(json_object) base_object = parse_json(baseline);
        g_autoptr(json_object) object = parse_json(c->line);
        g_autoptr(GError) error = NULL;
        VtAgentReport previous = {0};
        VtAgentReport report = {.seq = 4242};
        gboolean ok;

        g_assert_true(vt_agent_report_parse(base_object, NULL, &previous, NULL));
        g_assert_nonnull(object);
        ok = vt_agent_report_parse(object, c->after_baseline ? &previous : NULL, &report, &error);
        switch (c->expect) {
        case OK:
                g_assert_no_error(error);
                g_assert_true(ok);
                vt_agent_report_clear(&report);
                break;
        case INVALID:
                g_assert_error(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID);
                g_assert_false(ok);
                g_assert_cmpuint(report.seq, ==, 4242); /* untouched */
                break;
        case BACKWARDS:
        default:
                g_assert_error(error, VT_AGENT_ERROR, VT_AGENT_ERROR_BACKWARDS);
                g_assert_false(ok);
                break;
        }
        vt_agent_report_clear(&previous);
}

static void
test_report_fields(void)
{
        g_autoptr(json_object) full = parse_json(baseline);
        g_autoptr(json_object) minimal = parse_json(HEAD("1") "\"mem\":{\"total\":7}}");
        VtAgentReport report = {0};

        g_assert_true(vt_agent_report_parse(full, NULL, &report, NULL));
        g_assert_cmpint(report.kind, ==, VT_AGENT_MESSAGE_REPORT);
        g_assert_cmpint(report.reason, ==, VT_AGENT_REASON_PERIODIC);
        g_assert_cmpuint(report.seq, ==, 5);
        g_assert_cmpuint(report.interval_ms, ==, 5000);
        g_assert_cmpuint(report.mem_total, ==, 1000000);
        g_assert_cmpuint(report.mem_available, ==, 600000);
        g_assert_cmpuint(report.mem_anon, ==, 300000);
        g_assert_cmpuint(report.pgscan_direct, ==, 100);
        g_assert_cmpfloat(report.psi_some.avg10, ==, 1.5);
        g_assert_cmpuint(report.psi_full.total_us, ==, 500);
        g_assert_cmpuint(report.agent_rss_bytes, ==, 100000);
        g_assert_cmpuint(report.fields, ==, 0xffff);
        vt_agent_report_clear(&report);

        g_assert_true(vt_agent_report_parse(minimal, NULL, &report, NULL));
        g_assert_cmpuint(report.mem_total, ==, 7);
        g_assert_cmpuint(report.fields, ==, 0);
        vt_agent_report_clear(&report);
}

/* A revision 2 report: its figures summed over the devices, its flags. */
static void
test_report_rev2_fields(void)
{
        g_autoptr(json_object) object = parse_json(
            HEAD("1") MEM2 ",\"zram\":[" ZDEV("zram0", "400000", "100000", "120000") "," ZDEV(
                "zram1", "1000", "500", "4096") "],\"vm\":{\"pswpin\":1,\"pswpout\":2,"
                                                "\"zswpin\":3,\"zswpout\":4}}");
        VtAgentReport report = {0};

        g_assert_true(vt_agent_report_parse(object, NULL, &report, NULL));
        g_assert_cmpuint(report.fields & VT_AGENT_HAS_ZRAM, !=, 0);
        g_assert_cmpuint(report.fields & VT_AGENT_HAS_ZSWAP, !=, 0);
        g_assert_cmpuint(report.fields & VT_AGENT_HAS_ZSWPIN, !=, 0);
        g_assert_cmpuint(report.fields & VT_AGENT_HAS_SWAP_RATES, ==, 0); /* no previous */
        g_assert_cmpuint(report.zram_devices, ==, 2);
        g_assert_cmpuint(report.zram_swap_devices, ==, 2);
        g_assert_cmpuint(report.zram_orig, ==, 401000);
        g_assert_cmpuint(report.zram_compr, ==, 100500);
        g_assert_cmpuint(report.zram_used, ==, 124096);
        g_assert_cmpuint(report.zram_huge_pages, ==, 6);
        g_assert_cmpuint(report.zswap_pool, ==, 5000);
        g_assert_cmpuint(report.zswap_stored, ==, 20000);
        g_assert_cmpuint(report.zswpout, ==, 4);
        vt_agent_report_clear(&report);
}

/* Swap rates from two reports: pswp* plus zswp*, per second of guest time; a
 * report too close carries them over; a counter set that changed gives none. */
static void
test_report_swap_rates(void)
{
#define R(seq, up, in, out, zin)                                                                   \
        "{\"v\":1,\"type\":\"report\",\"seq\":" seq ",\"reason\":\"periodic\",\"uptime_ms\":" up   \
        ",\"interval_ms\":5000," ZMEM ",\"vm\":{\"pswpin\":" in ",\"pswpout\":" out                \
        ",\"zswpin\":" zin ",\"zswpout\":0}}"
        g_autoptr(json_object) a = parse_json(R("1", "1000", "100", "50", "0"));
        g_autoptr(json_object) b = parse_json(R("2", "3000", "2100", "250", "1000"));
        g_autoptr(json_object) c = parse_json(R("3", "3100", "2200", "250", "1000"));
        /* No zswp* counters any more: no rates. */
        g_autoptr(json_object) d = parse_json(
            "{\"v\":1,\"type\":\"report\",\"seq\":4,\"reason\":\"periodic\",\"uptime_ms\":9000,"
            "\"interval_ms\":5000," ZMEM ",\"vm\":{\"pswpin\":9999,\"pswpout\":9999}}");
        VtAgentReport ra = {0}, rb = {0}, rc = {0}, rd = {0};

        g_assert_true(vt_agent_report_parse(a, NULL, &ra, NULL));
        g_assert_true(vt_agent_report_parse(b, &ra, &rb, NULL));
        g_assert_cmpuint(rb.fields & VT_AGENT_HAS_SWAP_RATES, !=, 0);
        g_assert_cmpfloat_with_epsilon(rb.swap_in_per_s, 1500.0, 1e-9); /* (2000 + 1000) / 2 s */
        g_assert_cmpfloat_with_epsilon(rb.swap_out_per_s, 100.0, 1e-9);
        g_assert_true(vt_agent_report_parse(c, &rb, &rc, NULL)); /* 100 ms later: carried */
        g_assert_cmpfloat_with_epsilon(rc.swap_in_per_s, 1500.0, 1e-9);
        g_assert_true(vt_agent_report_parse(d, &rc, &rd, NULL));
        g_assert_cmpuint(rd.fields & VT_AGENT_HAS_SWAP_RATES, ==, 0);
#undef R
}

/* An old agent's hello has no revision: 1. */
static void
test_report_hello_revision(void)
{
        g_autoptr(json_object) old =
            parse_json("{\"v\":1,\"type\":\"hello\",\"seq\":1,\"version\":\"0.1.0\","
                       "\"interval_ms\":2000}");
        g_autoptr(json_object) now =
            parse_json("{\"v\":1,\"type\":\"hello\",\"seq\":1,\"version\":\"0.2.0\","
                       "\"interval_ms\":2000,\"revision\":2}");
        VtAgentReport report = {0};

        g_assert_true(vt_agent_report_parse(old, NULL, &report, NULL));
        g_assert_cmpuint(report.revision, ==, 1);
        vt_agent_report_clear(&report);
        g_assert_true(vt_agent_report_parse(now, NULL, &report, NULL));
        g_assert_cmpuint(report.revision, ==, 2);
        vt_agent_report_clear(&report);
}

static void
test_report_hello(void)
{
        g_autoptr(json_object) hello =
            parse_json("{\"v\":1,\"type\":\"hello\",\"seq\":1,\"version\":\"0.1.0\","
                       "\"interval_ms\":2000,\"features\":[\"psi-trigger\"]}");
        VtAgentReport report = {0};
        VtAgentReport copy = {0};

        g_assert_true(vt_agent_report_parse(hello, NULL, &report, NULL));
        g_assert_cmpint(report.kind, ==, VT_AGENT_MESSAGE_HELLO);
        g_assert_cmpstr(report.version, ==, "0.1.0");
        g_assert_true(report.has_psi_trigger);
        vt_agent_report_copy(&report, &copy);
        vt_agent_report_clear(&report);
        g_assert_cmpstr(copy.version, ==, "0.1.0");
        vt_agent_report_clear(&copy);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(report_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/agent/report/case/%s", report_cases[i].name);

                g_test_add_data_func(path, &report_cases[i], test_report_case);
        }
        g_test_add_func("/agent/report/fields", test_report_fields);
        g_test_add_func("/agent/report/hello", test_report_hello);
        g_test_add_func("/agent/report/rev2-fields", test_report_rev2_fields);
        g_test_add_func("/agent/report/swap-rates", test_report_swap_rates);
        g_test_add_func("/agent/report/hello-revision", test_report_hello_revision);
        return g_test_run();
}
