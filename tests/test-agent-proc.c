/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the guest agent: /proc parsers, report and hello lines, host requests, --once. */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent-proc.h"
#include "agent/agent-report.h"
#include "vt-autocleanups.h"
#include "vt-config.h"

#define ABSENT G_MAXUINT64
#define KIB    UINT64_C(1024)

/* Expected figures of one fixture kernel; ABSENT for a field it lacks. */
typedef struct {
        const char *dir;
        guint64 mem[VT_AGENT_MEM_MAX];
        guint64 vm[VT_AGENT_VM_MAX];
        gboolean has_psi;
        guint64 psi_total_us[VT_AGENT_PSI_TOTAL_MAX];
} KernelCase;

static const KernelCase kernel_cases[] = {
    {
        .dir = "linux-6.18",
        .mem = {24684084 * KIB, 24239764 * KIB, 24178404 * KIB, 644 * KIB, 72136 * KIB, 8872 * KIB,
                218628 * KIB, 0, 0},
        .vm = {6109, 0, 0, 0, 0, 0},
        .has_psi = TRUE,
        .psi_total_us = {0, 0},
    },
    {
        .dir = "linux-6.1",
        .mem = {468416 * KIB, 433292 * KIB, 432000 * KIB, 0, 4212 * KIB, 4212 * KIB, 480 * KIB, 0,
                0},
        /* allocstall: allocstall_movable 17, the other zones 0. */
        .vm = {0, 0, 0, 1, 17, 0},
        .has_psi = TRUE,
        .psi_total_us = {10270, 9785},
    },
    {
        .dir = "linux-3.10",
        .mem = {1016860 * KIB, 123456 * KIB, ABSENT, 20480 * KIB, 307200 * KIB, 8192 * KIB,
                358400 * KIB, 2097148 * KIB, 2000000 * KIB, ABSENT, ABSENT},
        /* pgscan_direct: the zones 32 + 50000, not pgscan_direct_throttle. */
        .vm = {8765, 2500, 24287, ABSENT, 321, 50032, ABSENT, ABSENT},
        .has_psi = FALSE,
    },
};

static char *
fixture_dir(const char *kernel)
{
        return g_test_build_filename(G_TEST_DIST, "data", "proc", kernel, NULL);
}

static void
assert_sample_matches(const VtAgentSample *sample, const KernelCase *c)
{
        for (guint i = 0; i < VT_AGENT_MEM_MAX; i++) {
                g_assert_cmpint(sample->has_mem[i], ==, c->mem[i] != ABSENT);
                if (c->mem[i] != ABSENT)
                        g_assert_cmpuint(sample->mem[i], ==, c->mem[i]);
        }
        for (guint i = 0; i < VT_AGENT_VM_MAX; i++) {
                g_assert_cmpint(sample->has_vm[i], ==, c->vm[i] != ABSENT);
                if (c->vm[i] != ABSENT)
                        g_assert_cmpuint(sample->vm[i], ==, c->vm[i]);
        }
        for (guint i = 0; i < VT_AGENT_PSI_MAX; i++) {
                g_assert_cmpint(sample->has_psi_avg[i], ==, c->has_psi);
                if (c->has_psi)
                        g_assert_cmpfloat(sample->psi_avg[i], ==, 0.0);
        }
        for (guint i = 0; i < VT_AGENT_PSI_TOTAL_MAX; i++) {
                g_assert_cmpint(sample->has_psi_total[i], ==, c->has_psi);
                if (c->has_psi)
                        g_assert_cmpuint(sample->psi_total_us[i], ==, c->psi_total_us[i]);
        }
}

/* The pure parsers, each fed its file. */
static void
test_proc_fixture_parse(gconstpointer data)
{
        const KernelCase *c = data;
        g_autofree char *dir = fixture_dir(c->dir);
        g_autofree char *meminfo = NULL, *vmstat = NULL, *psi = NULL;
        g_autofree char *psi_path = g_build_filename(dir, "pressure", "memory", NULL);
        g_autofree char *meminfo_path = g_build_filename(dir, "meminfo", NULL);
        g_autofree char *vmstat_path = g_build_filename(dir, "vmstat", NULL);
        g_autoptr(GError) error = NULL;
        VtAgentSample sample = {{0}};

        g_file_get_contents(meminfo_path, &meminfo, NULL, &error);
        g_assert_no_error(error);
        g_file_get_contents(vmstat_path, &vmstat, NULL, &error);
        g_assert_no_error(error);
        if (!g_file_get_contents(psi_path, &psi, NULL, NULL))
                psi = g_strdup("");

        vt_agent_parse_meminfo(meminfo, &sample);
        vt_agent_parse_vmstat(vmstat, &sample);
        g_assert_cmpint(vt_agent_parse_psi(psi, &sample), ==, c->has_psi ? 8 : 0);
        assert_sample_matches(&sample, c);
}

/* The reader, with the fixture as the proc root. */
static void
test_proc_fixture_read(gconstpointer data)
{
        const KernelCase *c = data;
        g_autofree char *dir = fixture_dir(c->dir);
        VtAgentSample sample;

        g_assert_cmpint(vt_agent_sample_read(dir, &sample), ==, 0);
        assert_sample_matches(&sample, c);

        g_assert_cmpint(vt_agent_sample_read_meminfo(dir, &sample), ==, 0);
        g_assert_cmpuint(sample.mem[VT_AGENT_MEM_TOTAL], ==, c->mem[VT_AGENT_MEM_TOTAL]);
        for (guint i = 0; i < VT_AGENT_VM_MAX; i++)
                g_assert_false(sample.has_vm[i]);
}

static void
test_proc_read_errors(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_dir_make_tmp("vt-agent-proc-XXXXXX", &error);
        g_autofree char *meminfo = NULL;
        VtAgentSample sample = {{0}};

        g_assert_no_error(error);
        g_assert_cmpint(vt_agent_sample_read(dir, &sample), ==, -ENOENT);

        /* No MemTotal: no sample at all. */
        meminfo = g_build_filename(dir, "meminfo", NULL);
        g_file_set_contents(meminfo, "MemFree: 1 kB\n", -1, &error);
        g_assert_no_error(error);
        sample.mem[VT_AGENT_MEM_TOTAL] = 42;
        g_assert_cmpint(vt_agent_sample_read(dir, &sample), ==, -ENODATA);
        g_assert_cmpuint(sample.mem[VT_AGENT_MEM_TOTAL], ==, 42); /* untouched */

        /* MemTotal alone is a sample; vmstat and pressure are optional. */
        g_file_set_contents(meminfo, "MemTotal: 2 kB\n", -1, &error);
        g_assert_no_error(error);
        g_assert_cmpint(vt_agent_sample_read(dir, &sample), ==, 0);
        g_assert_cmpuint(sample.mem[VT_AGENT_MEM_TOTAL], ==, 2048);
        g_assert_false(sample.has_mem[VT_AGENT_MEM_FREE]);

        g_assert_cmpint(g_unlink(meminfo), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

typedef struct {
        const char *text;
        guint64 total; /* ABSENT: MemTotal must be left out */
} MeminfoCase;

static const MeminfoCase meminfo_cases[] = {
    {"MemTotal: 1 kB\n", 1024},
    {"MemTotal:\t\t7 kB", 7168},                /* tabs, no final newline */
    {"MemTotal:       16 kB   \n", 16384},      /* trailing blanks */
    {"MemTotal: 0 kB\n", 0},                    /* zero is a value */
    {"Foo: 1 kB\nMemTotal: 3 kB\nBar\n", 3072}, /* among unknown lines */
    {"MemTotal: 18014398509481983 kB\n", G_GUINT64_CONSTANT(18014398509481983) * 1024},
    {"MemTotal: 18014398509481984 kB\n", ABSENT}, /* * 1024 overflows */
    {"MemTotal: 99999999999999999999999 kB\n", ABSENT},
    {"MemTotal: 12", ABSENT}, /* truncated: no unit */
    {"MemTotal: 12 k", ABSENT},
    {"MemTotal: 12 MB\n", ABSENT},
    {"MemTotal: 12 kB extra\n", ABSENT},
    {"MemTotal: -5 kB\n", ABSENT},
    {"MemTotal: +5 kB\n", ABSENT},
    {"MemTotal: 0x10 kB\n", ABSENT},
    {"MemTotal: kB\n", ABSENT},
    {"MemTotal:\n", ABSENT},
    {"MemTotal", ABSENT},
    {"MemTotal 5 kB\n", ABSENT},
    {"memtotal: 5 kB\n", ABSENT},
    {"MemTotalX: 5 kB\n", ABSENT},
    {"MemTotal: 5 kB\r\n", ABSENT},
    {"MemTotal: 1 kB\nMemTotal: 2 kB\n", 2048},     /* the last one wins */
    {"MemTotal: 1 kB\nMemTotal: bad kB\n", ABSENT}, /* even when malformed */
    {"", ABSENT},
    {"\n\n\n", ABSENT},
    {"\x01\x02\xff\xfe:\x80 kB\n", ABSENT},
};

static void
test_proc_meminfo_cases(void)
{
        for (guint i = 0; i < G_N_ELEMENTS(meminfo_cases); i++) {
                const MeminfoCase *c = &meminfo_cases[i];
                VtAgentSample sample = {{0}};

                g_autofree char *escaped = g_strescape(c->text, NULL);

                g_test_message("case %u: '%s'", i, escaped);
                vt_agent_parse_meminfo(c->text, &sample);
                g_assert_cmpint(sample.has_mem[VT_AGENT_MEM_TOTAL], ==, c->total != ABSENT);
                if (c->total != ABSENT)
                        g_assert_cmpuint(sample.mem[VT_AGENT_MEM_TOTAL], ==, c->total);
        }
}

/* Long lines, a NUL-free binary blob and a huge file do not crash or invent. */
static void
test_proc_hostile(void)
{
        g_autoptr(GString) text = g_string_new(NULL);
        VtAgentSample sample = {{0}};

        g_string_append(text, "MemTotal: ");
        for (guint i = 0; i < 100000; i++)
                g_string_append_c(text, '9');
        g_string_append(text, " kB\nMemFree: 4 kB\n");
        for (guint i = 0; i < 300000; i++)
                g_string_append_c(text, (char)(1 + g_test_rand_int_range(0, 255)));
        g_string_append(text, "\nSwapFree: 8 kB");

        g_assert_cmpint(vt_agent_parse_meminfo(text->str, &sample), >=, 2);
        g_assert_false(sample.has_mem[VT_AGENT_MEM_TOTAL]);
        g_assert_cmpuint(sample.mem[VT_AGENT_MEM_FREE], ==, 4096);
        g_assert_cmpuint(sample.mem[VT_AGENT_MEM_SWAP_FREE], ==, 8192);
        vt_agent_parse_vmstat(text->str, &sample);
        vt_agent_parse_psi(text->str, &sample);
        for (guint i = 0; i < VT_AGENT_VM_MAX; i++)
                g_assert_false(sample.has_vm[i]);
        for (guint i = 0; i < VT_AGENT_PSI_MAX; i++)
                g_assert_false(sample.has_psi_avg[i]);

        /* Fields set by an earlier parse are cleared by the next one. */
        vt_agent_parse_meminfo("MemTotal: 1 kB\nMemAvailable: 1 kB\n", &sample);
        vt_agent_parse_meminfo("MemTotal: 1 kB\n", &sample);
        g_assert_false(sample.has_mem[VT_AGENT_MEM_AVAILABLE]);
}

static void
test_proc_vmstat_cases(void)
{
        VtAgentSample sample = {{0}};

        /* Zone parts add up; pgscan_direct_throttle is something else. */
        vt_agent_parse_vmstat("allocstall_dma 1\nallocstall_normal 2\nallocstall_movable 4\n"
                              "pgscan_direct 10\npgscan_direct_throttle 100\n",
                              &sample);
        g_assert_cmpuint(sample.vm[VT_AGENT_VM_ALLOCSTALL], ==, 7);
        g_assert_cmpuint(sample.vm[VT_AGENT_VM_PGSCAN_DIRECT], ==, 10);
        g_assert_false(sample.has_vm[VT_AGENT_VM_OOM_KILL]);

        /* Only pgscan_direct_throttle: no pgscan_direct. */
        vt_agent_parse_vmstat("pgscan_direct_throttle 5\npgscan_directx 3\nallocstall_ 2\n",
                              &sample);
        g_assert_false(sample.has_vm[VT_AGENT_VM_PGSCAN_DIRECT]);
        g_assert_false(sample.has_vm[VT_AGENT_VM_ALLOCSTALL]);

        /* A sum that overflows, or with a malformed part, is left out. */
        vt_agent_parse_vmstat("allocstall_dma 18446744073709551615\nallocstall_normal 1\n"
                              "pgscan_direct_dma 1\npgscan_direct_normal x\n"
                              "oom_kill 18446744073709551615\npgmajfault 18446744073709551616\n"
                              "pswpin -1\npswpout 12 13\n",
                              &sample);
        g_assert_false(sample.has_vm[VT_AGENT_VM_ALLOCSTALL]);
        g_assert_false(sample.has_vm[VT_AGENT_VM_PGSCAN_DIRECT]);
        g_assert_true(sample.has_vm[VT_AGENT_VM_OOM_KILL]);
        g_assert_cmpuint(sample.vm[VT_AGENT_VM_OOM_KILL], ==, G_MAXUINT64);
        g_assert_false(sample.has_vm[VT_AGENT_VM_PGMAJFAULT]);
        g_assert_false(sample.has_vm[VT_AGENT_VM_PSWPIN]);
        g_assert_false(sample.has_vm[VT_AGENT_VM_PSWPOUT]);

        /* Truncated mid-name or without a value. */
        vt_agent_parse_vmstat("pgmajfa", &sample);
        g_assert_false(sample.has_vm[VT_AGENT_VM_PGMAJFAULT]);
        vt_agent_parse_vmstat("pgmajfault \n", &sample);
        g_assert_false(sample.has_vm[VT_AGENT_VM_PGMAJFAULT]);
        vt_agent_parse_vmstat("pgmajfault 3", &sample);
        g_assert_cmpuint(sample.vm[VT_AGENT_VM_PGMAJFAULT], ==, 3);
}

static void
test_proc_psi_cases(void)
{
        VtAgentSample sample = {{0}};

        g_assert_cmpint(
            vt_agent_parse_psi("some avg10=12.50 avg60=3.1 avg300=100.00 total=1234567\n"
                               "full avg10=0.07 avg60=2 avg300=0.40 total=765432\n",
                               &sample),
            ==, 8);
        g_assert_cmpfloat_with_epsilon(sample.psi_avg[VT_AGENT_PSI_SOME_AVG10], 12.5, 1e-9);
        g_assert_cmpfloat_with_epsilon(sample.psi_avg[VT_AGENT_PSI_SOME_AVG60], 3.1, 1e-9);
        g_assert_cmpfloat_with_epsilon(sample.psi_avg[VT_AGENT_PSI_SOME_AVG300], 100.0, 1e-9);
        g_assert_cmpfloat_with_epsilon(sample.psi_avg[VT_AGENT_PSI_FULL_AVG10], 0.07, 1e-9);
        g_assert_cmpfloat_with_epsilon(sample.psi_avg[VT_AGENT_PSI_FULL_AVG60], 2.0, 1e-9);
        g_assert_cmpuint(sample.psi_total_us[VT_AGENT_PSI_SOME_TOTAL], ==, 1234567);
        g_assert_cmpuint(sample.psi_total_us[VT_AGENT_PSI_FULL_TOTAL], ==, 765432);

        /* Only "some" (as /proc/pressure/cpu before 5.13): "full" is left out. */
        g_assert_cmpint(
            vt_agent_parse_psi("some avg10=1.00 avg60=1.00 avg300=1.00 total=5", &sample), ==, 4);
        g_assert_false(sample.has_psi_avg[VT_AGENT_PSI_FULL_AVG10]);
        g_assert_false(sample.has_psi_total[VT_AGENT_PSI_FULL_TOTAL]);

        /* Out of range, not numbers, locale-dependent forms: each left out. */
        g_assert_cmpint(
            vt_agent_parse_psi("some avg10=100.01 avg60=nan avg300=inf total=-1\n"
                               "full avg10=1e3 avg60=1,5 avg300=. total=99999999999999999999\n",
                               &sample),
            ==, 0);
        g_assert_cmpint(vt_agent_parse_psi("some avg10=1.5x avg60= avg300=-0.5 total=3\n"
                                           "full\nfull avg10=5\nsomething avg10=1\n",
                                           &sample),
                        ==, 2);
        g_assert_true(sample.has_psi_total[VT_AGENT_PSI_SOME_TOTAL]);
        g_assert_cmpfloat(sample.psi_avg[VT_AGENT_PSI_FULL_AVG10], ==, 5.0);
        g_assert_cmpint(vt_agent_parse_psi("", &sample), ==, 0);
}

static json_object *
parse_line(const char *line)
{
        json_object *object;

        g_assert_nonnull(line);
        g_assert_true(g_str_has_suffix(line, "\n"));
        g_assert_true(strchr(line, '\n') == line + strlen(line) - 1); /* exactly one line */
        g_assert_cmpuint(strlen(line), <=, VT_AGENT_LINE_MAX);
        object = json_tokener_parse(line);
        g_assert_nonnull(object);
        g_assert_true(json_object_is_type(object, json_type_object));
        return object;
}

static json_object *
get_member(json_object *object, const char *key)
{
        json_object *member = NULL;

        if (!json_object_object_get_ex(object, key, &member))
                return NULL;
        return member;
}

static void
assert_int_member(json_object *object, const char *key, gint64 value)
{
        json_object *member = get_member(object, key);

        g_assert_nonnull(member);
        g_assert_true(json_object_is_type(member, json_type_int));
        g_assert_cmpint(json_object_get_int64(member), ==, value);
}

/* Build a report from each fixture, parse it back, compare every field. */
static void
test_report_round_trip(gconstpointer data)
{
        const KernelCase *c = data;
        g_autofree char *dir = fixture_dir(c->dir);
        VtAgentReportMeta meta = {
            .seq = 42,
            .reason = VT_AGENT_REASON_PRESSURE,
            .uptime_ms = 812345,
            .interval_ms = 5000,
            .self = {.cpu_us = 15230, .rss_bytes = 1232896, .has_rss = TRUE},
            .dropped_requests = 3,
        };
        g_autoptr(json_object) object = NULL;
        g_autofree char *line = NULL;
        json_object *mem, *vm, *psi, *agent;
        VtAgentSample sample;

        g_assert_cmpint(vt_agent_sample_read(dir, &sample), ==, 0);
        line = vt_agent_report_build(&sample, &meta);
        object = parse_line(line);

        assert_int_member(object, "v", 1);
        g_assert_cmpstr(json_object_get_string(get_member(object, "type")), ==, "report");
        assert_int_member(object, "seq", 42);
        g_assert_cmpstr(json_object_get_string(get_member(object, "reason")), ==, "pressure");
        assert_int_member(object, "uptime_ms", 812345);
        assert_int_member(object, "interval_ms", 5000);

        mem = get_member(object, "mem");
        g_assert_nonnull(mem);
        for (guint i = 0; i < VT_AGENT_MEM_MAX; i++) {
                const char *name = vt_agent_mem_get_name((VtAgentProcMem)i);

                if (c->mem[i] == ABSENT)
                        g_assert_null(get_member(mem, name));
                else
                        assert_int_member(mem, name, (gint64)c->mem[i]);
        }
        vm = get_member(object, "vm");
        g_assert_nonnull(vm);
        for (guint i = 0; i < VT_AGENT_VM_MAX; i++) {
                const char *name = vt_agent_vm_get_name((VtAgentProcVm)i);

                if (c->vm[i] == ABSENT)
                        g_assert_null(get_member(vm, name));
                else
                        assert_int_member(vm, name, (gint64)c->vm[i]);
        }
        psi = get_member(object, "psi");
        if (!c->has_psi) {
                g_assert_null(psi); /* an empty object is left out */
        } else {
                g_assert_nonnull(psi);
                for (guint i = 0; i < VT_AGENT_PSI_MAX; i++) {
                        json_object *avg =
                            get_member(psi, vt_agent_psi_get_name((VtAgentProcPsi)i));

                        g_assert_nonnull(avg);
                        g_assert_true(json_object_is_type(avg, json_type_double));
                        g_assert_cmpfloat(json_object_get_double(avg), ==, 0.0);
                }
                for (guint i = 0; i < VT_AGENT_PSI_TOTAL_MAX; i++)
                        assert_int_member(psi, vt_agent_psi_total_get_name((VtAgentProcPsiTotal)i),
                                          (gint64)c->psi_total_us[i]);
        }
        agent = get_member(object, "agent");
        g_assert_nonnull(agent);
        assert_int_member(agent, "cpu_us", 15230);
        assert_int_member(agent, "rss_bytes", 1232896);
        assert_int_member(agent, "dropped_requests", 3);
}

static void
test_report_values(void)
{
        VtAgentSample sample = {{0}};
        VtAgentReportMeta meta = {.seq = 1, .reason = VT_AGENT_REASON_DROP};
        g_autoptr(json_object) object = NULL;
        g_autofree char *line = NULL;
        json_object *psi;

        /* No MemTotal: no report. */
        g_assert_null(vt_agent_report_build(&sample, &meta));

        vt_agent_parse_meminfo("MemTotal: 4 kB\n", &sample);
        vt_agent_parse_vmstat("oom_kill 18446744073709551615\n", &sample);
        vt_agent_parse_psi("some avg10=12.50 avg60=0.07 avg300=99.99 total=1\n", &sample);
        meta.reason = VT_AGENT_REASON_MAX;
        g_assert_null(vt_agent_report_build(&sample, &meta));
        meta.reason = VT_AGENT_REASON_DROP;
        line = vt_agent_report_build(&sample, &meta);
        /* Two decimals as the kernel gives them, not %.17g noise. */
        g_assert_nonnull(strstr(line, "\"some_avg10\":12.50,\"some_avg60\":0.07,"));
        object = parse_line(line);
        g_assert_cmpstr(json_object_get_string(get_member(object, "reason")), ==, "drop");
        psi = get_member(object, "psi");
        g_assert_cmpfloat_with_epsilon(json_object_get_double(get_member(psi, "some_avg300")),
                                       99.99, 1e-9);
        g_assert_null(get_member(psi, "full_avg10"));
        /* JSON integers are signed 64-bit: a counter beyond clamps. */
        assert_int_member(get_member(object, "vm"), "oom_kill", G_MAXINT64);
        g_assert_null(get_member(get_member(object, "agent"), "rss_bytes"));
}

static void
test_report_hello(void)
{
        g_autofree char *with = vt_agent_hello_build(1, 5000, TRUE);
        g_autofree char *without = vt_agent_hello_build(7, 100, FALSE);
        g_autoptr(json_object) a = parse_line(with);
        g_autoptr(json_object) b = parse_line(without);
        json_object *features;

        assert_int_member(a, "v", 1);
        g_assert_cmpstr(json_object_get_string(get_member(a, "type")), ==, "hello");
        assert_int_member(a, "seq", 1);
        assert_int_member(a, "interval_ms", 5000);
        g_assert_cmpstr(json_object_get_string(get_member(a, "version")), ==, VT_VERSION);
        assert_int_member(a, "revision", VT_AGENT_PROTOCOL_REVISION);
        features = get_member(a, "features");
        g_assert_cmpuint(json_object_array_length(features), ==, 1);
        g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(features, 0)), ==,
                        "psi-trigger");

        assert_int_member(b, "seq", 7);
        assert_int_member(b, "interval_ms", 100);
        features = get_member(b, "features");
        g_assert_true(json_object_is_type(features, json_type_array));
        g_assert_cmpuint(json_object_array_length(features), ==, 0);
}

typedef struct {
        const char *line;
        gboolean valid;
        VtAgentRequestType type;
        guint32 interval_ms;
} RequestCase;

static const RequestCase request_cases[] = {
    {"{\"v\":1,\"type\":\"hello\"}", TRUE, VT_AGENT_REQUEST_HELLO},
    {"{\"v\":1,\"type\":\"report-now\"}", TRUE, VT_AGENT_REQUEST_REPORT_NOW},
    {"{\"v\":1,\"type\":\"set-interval\",\"interval_ms\":2000}", TRUE,
     VT_AGENT_REQUEST_SET_INTERVAL, 2000},
    {"{\"v\":1,\"type\":\"set-interval\",\"interval_ms\":100}", TRUE, VT_AGENT_REQUEST_SET_INTERVAL,
     100},
    {"{\"v\":1,\"type\":\"set-interval\",\"interval_ms\":3600000}", TRUE,
     VT_AGENT_REQUEST_SET_INTERVAL, 3600000},
    /* Unknown members are ignored; whitespace and a CR are JSON whitespace. */
    {"{\"type\":\"hello\",\"later\":{\"x\":[1,2]},\"v\":1}", TRUE, VT_AGENT_REQUEST_HELLO},
    {"  { \"v\" : 1 , \"type\" : \"hello\" }  \r", TRUE, VT_AGENT_REQUEST_HELLO},
    /* Intervals out of range or mistyped. */
    {"{\"v\":1,\"type\":\"set-interval\",\"interval_ms\":99}", FALSE},
    {"{\"v\":1,\"type\":\"set-interval\",\"interval_ms\":3600001}", FALSE},
    {"{\"v\":1,\"type\":\"set-interval\",\"interval_ms\":-2000}", FALSE},
    {"{\"v\":1,\"type\":\"set-interval\",\"interval_ms\":18446744073709551616}", FALSE},
    {"{\"v\":1,\"type\":\"set-interval\",\"interval_ms\":\"2000\"}", FALSE},
    {"{\"v\":1,\"type\":\"set-interval\",\"interval_ms\":2000.0}", FALSE},
    {"{\"v\":1,\"type\":\"set-interval\",\"interval_ms\":null}", FALSE},
    {"{\"v\":1,\"type\":\"set-interval\"}", FALSE},
    /* Versions. */
    {"{\"v\":2,\"type\":\"hello\"}", FALSE},
    {"{\"v\":0,\"type\":\"hello\"}", FALSE},
    {"{\"v\":\"1\",\"type\":\"hello\"}", FALSE},
    {"{\"v\":1.0,\"type\":\"hello\"}", FALSE},
    {"{\"type\":\"hello\"}", FALSE},
    /* Types. */
    {"{\"v\":1,\"type\":\"report\"}", FALSE},
    {"{\"v\":1,\"type\":\"HELLO\"}", FALSE},
    {"{\"v\":1,\"type\":\"hello \"}", FALSE},
    {"{\"v\":1,\"type\":5}", FALSE},
    {"{\"v\":1,\"type\":null}", FALSE},
    {"{\"v\":1}", FALSE},
    /* Not one JSON object. */
    {"", FALSE},
    {"   ", FALSE},
    {"not json", FALSE},
    {"{\"v\":1,\"type\":\"hello\"", FALSE},
    {"{\"v\":1,\"type\":\"hello\",}", FALSE},
    {"{'v':1,'type':'hello'}", FALSE},
    {"[{\"v\":1,\"type\":\"hello\"}]", FALSE},
    {"\"hello\"", FALSE},
    {"1", FALSE},
    {"null", FALSE},
    {"{\"v\":1,\"type\":\"hello\"}{\"v\":1,\"type\":\"hello\"}", FALSE},
    {"{\"v\":1,\"type\":\"hello\"} x", FALSE},
    {"{\"v\":1,\"type\":\"hello\",\"x\":\"\xff\xfe\"}", FALSE}, /* not UTF-8 */
    /* Nesting: the object is level 1, so 7 more levels fit and 8 do not. */
    {"{\"v\":1,\"type\":\"hello\",\"x\":[[[[[[[1]]]]]]]}", TRUE, VT_AGENT_REQUEST_HELLO},
    {"{\"v\":1,\"type\":\"hello\",\"x\":[[[[[[[[1]]]]]]]]}", FALSE},
};

static void
test_request_cases(void)
{
        for (guint i = 0; i < G_N_ELEMENTS(request_cases); i++) {
                const RequestCase *c = &request_cases[i];
                VtAgentRequest request = {.type = VT_AGENT_REQUEST_MAX, .interval_ms = 7};

                g_autofree char *escaped = g_strescape(c->line, NULL);

                g_test_message("case %u: %s", i, escaped);
                g_assert_cmpint(vt_agent_request_parse(c->line, strlen(c->line), &request), ==,
                                c->valid);
                if (c->valid) {
                        g_assert_cmpint(request.type, ==, c->type);
                        g_assert_cmpuint(request.interval_ms, ==, c->interval_ms);
                } else {
                        /* Untouched on failure. */
                        g_assert_cmpint(request.type, ==, VT_AGENT_REQUEST_MAX);
                        g_assert_cmpuint(request.interval_ms, ==, 7);
                }
        }
}

/* The 4096-byte bound includes the newline; a NUL ends nothing, it is refused. */
static void
test_request_bounds(void)
{
        static const char head[] = "{\"v\":1,\"type\":\"report-now\",\"pad\":\"";
        char line[VT_AGENT_LINE_MAX + 2];
        VtAgentRequest request;
        size_t len;

        for (len = VT_AGENT_LINE_MAX - 2; len <= VT_AGENT_LINE_MAX + 1; len++) {
                memset(line, 'x', sizeof(line));
                memcpy(line, head, strlen(head));
                line[len - 2] = '"';
                line[len - 1] = '}';
                g_assert_cmpint(vt_agent_request_parse(line, len, &request), ==,
                                len + 1 <= VT_AGENT_LINE_MAX);
        }

        memcpy(line, "{\"v\":1,\"type\":\"hello\"}", 23);
        line[10] = '\0';
        g_assert_false(vt_agent_request_parse(line, 23, &request));
        g_assert_false(vt_agent_request_parse(NULL, 0, &request));
}

typedef struct {
        const char *name;
        gboolean fixture; /* --proc-root a fixture, else the real /proc */
} OnceCase;

static void
test_once(gconstpointer data)
{
        const OnceCase *c = data;
        const char *agent = g_getenv("VT_AGENT");
        g_autofree char *dir = fixture_dir("linux-6.1");
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) object = NULL;
        const char *argv[] = {agent, "--once", c->fixture ? "--proc-root" : NULL, dir, NULL};
        json_object *total;
        int status;

        if (!agent) {
                g_test_skip("VT_AGENT is not set (meson sets it)");
                return;
        }
        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                     &error);
        g_assert_no_error(error);
        g_test_message("stderr: %s", err);
        g_spawn_check_wait_status(status, &error);
        g_assert_no_error(error);

        object = parse_line(out);
        assert_int_member(object, "v", 1);
        g_assert_cmpstr(json_object_get_string(get_member(object, "type")), ==, "report");
        assert_int_member(object, "seq", 1);
        g_assert_cmpstr(json_object_get_string(get_member(object, "reason")), ==, "request");
        total = get_member(get_member(object, "mem"), "total");
        g_assert_nonnull(total);
        g_assert_cmpint(json_object_get_int64(total), >, 0);
        if (c->fixture) {
                g_assert_cmpint(json_object_get_int64(total), ==, 468416 * 1024);
                assert_int_member(get_member(object, "vm"), "oom_kill", 1);
        }
        g_assert_cmpint(json_object_get_int64(get_member(get_member(object, "agent"), "cpu_us")),
                        >=, 0);
}

static void
test_once_usage(void)
{
        const char *agent = g_getenv("VT_AGENT");
        const char *argv[] = {agent, "--interval", "99", NULL};
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL;
        int status;

        if (!agent) {
                g_test_skip("VT_AGENT is not set (meson sets it)");
                return;
        }
        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                     &status, &error);
        g_assert_no_error(error);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 2);

        argv[1] = "--version";
        argv[2] = NULL;
        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status,
                     &error);
        g_assert_no_error(error);
        g_assert_cmpstr(out, ==, "vmtide-agent " VT_VERSION "\n");
}

/* mm_stat as 6.x writes it (nine fields; 6.1 and 6.18 alike), and what is refused. */
static void
test_proc_zram_mm_stat(void)
{
        VtAgentZram z = {.name = "zram0"};

        /* An idle device: zeros. */
        g_assert_true(vt_agent_parse_mm_stat(
            "       0        0        0        0        0        0        0        0        0\n",
            &z));
        g_assert_cmpuint(z.orig, ==, 0);
        g_assert_true(vt_agent_parse_mm_stat("268435456 67108864 71303168 0 71303168 1024 0 "
                                             "300 300\n",
                                             &z));
        g_assert_cmpuint(z.orig, ==, 268435456);
        g_assert_cmpuint(z.compr, ==, 67108864);
        g_assert_cmpuint(z.used, ==, 71303168);
        g_assert_cmpuint(z.limit, ==, 0);
        g_assert_cmpuint(z.huge_pages, ==, 300);
        g_assert_cmpstr(z.name, ==, "zram0");
        /* Eight fields (before huge_pages_since, 5.13) are enough. */
        g_assert_true(vt_agent_parse_mm_stat("1 2 3 4 5 6 7 8", &z));
        g_assert_cmpuint(z.huge_pages, ==, 8);
        /* Short, garbage, overflow, above the memory bound: refused, @z untouched. */
        g_assert_false(vt_agent_parse_mm_stat("1 2 3 4 5 6 7", &z));
        g_assert_false(vt_agent_parse_mm_stat("x 2 3 4 5 6 7 8", &z));
        g_assert_false(vt_agent_parse_mm_stat("", &z));
        g_assert_false(vt_agent_parse_mm_stat("99999999999999999999999 2 3 4 5 6 7 8", &z));
        g_assert_false(vt_agent_parse_mm_stat("17592186044417 2 3 4 5 6 7 8", &z));
        g_assert_cmpuint(z.orig, ==, 1);

        g_assert_true(vt_agent_parse_swaps_has(
            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
            "/dev/zram0                              partition\t262140\t\t0\t\t100\n",
            "/dev/zram0"));
        g_assert_false(vt_agent_parse_swaps_has("/dev/zram10 partition 1 0 1\n", "/dev/zram1"));
        g_assert_false(
            vt_agent_parse_swaps_has("Filename Type Size Used Priority\n", "/dev/zram0"));
}

static void
write_tree_file(const char *root, const char *rel, const char *text)
{
        g_autofree char *path = g_build_filename(root, rel, NULL);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
}

/* A sysfs tree with three zram devices, one swap, one idle, one broken; and the report. */
static void
test_proc_zram_read(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *root = g_dir_make_tmp("vt-agent-zram-XXXXXX", &error);
        g_autofree char *sys = g_build_filename(root, "sys", NULL);
        g_autofree char *proc = g_build_filename(root, "proc", NULL);
        g_autofree char *rm = NULL;
        g_autoptr(json_object) object = NULL;
        g_autofree char *line = NULL;
        VtAgentReportMeta meta = {.seq = 3, .reason = VT_AGENT_REASON_PERIODIC};
        VtAgentSample sample = {{0}};
        json_object *zram, *dev;

        g_assert_no_error(error);
        write_tree_file(sys, "block/zram10/mm_stat", "4096 100 8192 0 8192 0 0 0 0\n");
        write_tree_file(sys, "block/zram0/mm_stat",
                        "268435456 67108864 71303168 0 71303168 1024 0 300 300\n");
        write_tree_file(sys, "block/zram1/mm_stat", "0 0 0 0 0 0 0 0 0\n");
        write_tree_file(sys, "block/zram2/mm_stat", "garbage\n");
        write_tree_file(sys, "block/vda/stat", "0\n");
        write_tree_file(proc, "swaps",
                        "Filename Type Size Used Priority\n/dev/zram0 partition 262140 0 100\n");

        vt_agent_sample_read_zram(sys, proc, &sample);
        g_assert_cmpuint(sample.n_zram, ==, 2);
        g_assert_cmpstr(sample.zram[0].name, ==, "zram0");
        g_assert_true(sample.zram[0].swap);
        g_assert_cmpstr(sample.zram[1].name, ==, "zram10");
        g_assert_false(sample.zram[1].swap);

        /* No /sys/block at all: no devices, no error. */
        vt_agent_sample_read_zram(proc, proc, &sample);
        g_assert_cmpuint(sample.n_zram, ==, 0);
        vt_agent_sample_read_zram(sys, proc, &sample);

        sample.mem[VT_AGENT_MEM_TOTAL] = 512 << 20;
        sample.has_mem[VT_AGENT_MEM_TOTAL] = true;
        line = vt_agent_report_build(&sample, &meta);
        object = parse_line(line);
        zram = get_member(object, "zram");
        g_assert_nonnull(zram);
        g_assert_cmpuint(json_object_array_length(zram), ==, 2);
        dev = json_object_array_get_idx(zram, 0);
        g_assert_cmpstr(json_object_get_string(get_member(dev, "name")), ==, "zram0");
        assert_int_member(dev, "orig_data_size", 268435456);
        assert_int_member(dev, "compr_data_size", 67108864);
        assert_int_member(dev, "mem_used_total", 71303168);
        assert_int_member(dev, "mem_limit", 0);
        assert_int_member(dev, "huge_pages", 300);
        g_assert_true(json_object_get_boolean(get_member(dev, "swap")));

        /* Without zram the member is left out (what a revision 1 agent sends). */
        sample.n_zram = 0;
        g_clear_pointer(&line, g_free);
        g_clear_pointer(&object, json_object_put);
        line = vt_agent_report_build(&sample, &meta);
        object = parse_line(line);
        g_assert_null(get_member(object, "zram"));

        rm = g_strdup_printf("rm -rf '%s'", root);
        g_assert_cmpint(system(rm), ==, 0);
}

int
main(int argc, char **argv)
{
        static const OnceCase once_cases[] = {{"proc", FALSE}, {"fixture", TRUE}};

        g_test_init(&argc, &argv, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(kernel_cases); i++) {
                g_autofree char *parse =
                    g_strdup_printf("/agent/proc/fixture/%s/parse", kernel_cases[i].dir);
                g_autofree char *read =
                    g_strdup_printf("/agent/proc/fixture/%s/read", kernel_cases[i].dir);
                g_autofree char *report =
                    g_strdup_printf("/agent/report/round-trip/%s", kernel_cases[i].dir);

                g_test_add_data_func(parse, &kernel_cases[i], test_proc_fixture_parse);
                g_test_add_data_func(read, &kernel_cases[i], test_proc_fixture_read);
                g_test_add_data_func(report, &kernel_cases[i], test_report_round_trip);
        }
        g_test_add_func("/agent/proc/read-errors", test_proc_read_errors);
        g_test_add_func("/agent/proc/meminfo", test_proc_meminfo_cases);
        g_test_add_func("/agent/proc/hostile", test_proc_hostile);
        g_test_add_func("/agent/proc/vmstat", test_proc_vmstat_cases);
        g_test_add_func("/agent/proc/psi", test_proc_psi_cases);
        g_test_add_func("/agent/proc/zram/mm-stat", test_proc_zram_mm_stat);
        g_test_add_func("/agent/proc/zram/read", test_proc_zram_read);
        g_test_add_func("/agent/report/values", test_report_values);
        g_test_add_func("/agent/report/hello", test_report_hello);
        g_test_add_func("/agent/request/cases", test_request_cases);
        g_test_add_func("/agent/request/bounds", test_request_bounds);
        for (guint i = 0; i < G_N_ELEMENTS(once_cases); i++) {
                g_autofree char *path = g_strdup_printf("/agent/once/%s", once_cases[i].name);

                g_test_add_data_func(path, &once_cases[i], test_once);
        }
        g_test_add_func("/agent/once/usage", test_once_usage);

        return g_test_run();
}
