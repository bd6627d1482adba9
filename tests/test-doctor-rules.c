/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of vmtide doctor's rules (host/doctor/doctor-rules.h): each
 * case is a recorded tree (tests/data/mm/: the real 6.18 host and
 * hand-made ones), optionally an earlier one 10 s before for rates, a
 * hand-made KSM sample pair and guests, and the exact findings expected,
 * in order ("severity:rule:subject"). Every rule fires in one case at
 * least and stays silent in the others. The last case times a run over
 * 200 guests (docs/benchmarks.md).
 */
#include <string.h>

#include "host/doctor/doctor-rules.h"
#include "host/sensing/sensing-text.h"

#define MiB (G_GUINT64_CONSTANT(1) << 20)
#define T0  G_GINT64_CONSTANT(1000000000)
#define DT  (10 * G_USEC_PER_SEC)

typedef enum {
        KSM_NONE,
        KSM_REAL,
        KSM_BUSY_NO_YIELD,
        KSM_BUSY_YIELDING,
        KSM_IDLE_RUNNING,
        KSM_STOPPED_EMPTY,
} KsmCase;

typedef enum {
        GUESTS_NONE,
        GUESTS_HEALTHY,
        GUESTS_PLUMBING,
        GUESTS_UNMERGEABLE,
        GUESTS_KSM_COST,
        GUESTS_COMPRESSED,
        GUESTS_FPR_OFF,
        GUESTS_NUMA,
} GuestsCase;

typedef struct {
        const char *name;
        const char *tree;
        const char *tree_prev;
        KsmCase ksm;
        GuestsCase guests;
        gboolean other_writer;
        const char *expected;
        const char *figures_contain;
} DoctorCase;

static const DoctorCase cases[] = {
    {"real-host", "linux-6.18-real", NULL, KSM_REAL, GUESTS_NONE, FALSE, ""},
    {"real-host-healthy-guests", "linux-6.18-real", "linux-6.18-real", KSM_REAL, GUESTS_HEALTHY,
     FALSE, ""},
    {"zram-swap-good", "zram-swap-good", NULL, KSM_NONE, GUESTS_NONE, FALSE, ""},
    {"zram-thrashing", "zram-thrashing", "zram-thrashing-before", KSM_NONE, GUESTS_NONE, FALSE,
     "critical:host-compression-thrashing:host", "pswpin 1800/s; pswpout 2000/s"},
    {"zram-thrashing-one-sample", "zram-thrashing", NULL, KSM_NONE, GUESTS_NONE, FALSE,
     "critical:host-compression-thrashing:host", "zram0 used 1020.0 MiB"},
    {"zram-incompressible", "zram-incompressible", NULL, KSM_NONE, GUESTS_NONE, FALSE,
     "warning:zram-poor-ratio:host", "ratio 1.02"},
    {"zswap-at-limit", "zswap-limit", "zswap-limit-before", KSM_NONE, GUESTS_NONE, FALSE,
     "warning:host-compression-thrashing:host", "zswap pool_limit_hit +800"},
    {"fragmented-rates", "fragmented", "fragmented-before", KSM_NONE, GUESTS_NONE, FALSE,
     "warning:fragmentation:host", "compact_fail +330"},
    {"fragmented-state", "fragmented", NULL, KSM_NONE, GUESTS_NONE, FALSE,
     "advice:fragmentation:host", "extfrag_index at order 9 0.956 > 0.500"},
    {"numa-tiers", "numa-tiers", NULL, KSM_NONE, GUESTS_NUMA, FALSE, "info:memory-tiers:host",
     "vm-a on nodes 0-1"},
    {"old-kernel", "linux-5.10", "linux-5.10", KSM_NONE, GUESTS_HEALTHY, FALSE, ""},
    {"bare", "bare", "bare", KSM_NONE, GUESTS_NONE, FALSE, ""},
    {"ksmd-busy-no-yield", "linux-6.18-real", NULL, KSM_BUSY_NO_YIELD, GUESTS_HEALTHY, FALSE,
     "warning:ksmd-cpu-high:host", "ksmd CPU 30 % of one CPU"},
    {"ksmd-busy-yielding", "linux-6.18-real", NULL, KSM_BUSY_YIELDING, GUESTS_HEALTHY, FALSE, ""},
    {"ksm-idle-why", "fragmented", NULL, KSM_IDLE_RUNNING, GUESTS_UNMERGEABLE, FALSE,
     "warning:ksm-merges-nothing:host,advice:fragmentation:host",
     "no mergeable guests (mem-merge off or opted out in all 2); THP is 'always'"},
    {"ksm-stopped-host-tight", "zram-thrashing", NULL, KSM_STOPPED_EMPTY, GUESTS_HEALTHY, FALSE,
     "critical:host-compression-thrashing:host,advice:ksm-merges-nothing:host",
     "KSM is stopped (run=0)"},
    {"ksm-stopped-host-roomy", "linux-6.18-real", NULL, KSM_STOPPED_EMPTY, GUESTS_HEALTHY, FALSE,
     ""},
    {"ksm-other-writer", "linux-6.18-real", NULL, KSM_REAL, GUESTS_NONE, TRUE,
     "warning:ksm-other-writer:host", "writer ksmtuned (pid 812)"},
    {"ksm-not-paying", "linux-6.18-real", NULL, KSM_REAL, GUESTS_KSM_COST, FALSE,
     "warning:ksm-not-paying:vm-scattered", "100 items per merged page"},
    {"guest-plumbing", "linux-6.18-real", NULL, KSM_NONE, GUESTS_PLUMBING, FALSE,
     "warning:balloon-stats-off:vm-nostats,warning:balloon-stuck:vm-stuck,"
     "warning:balloon-floor-pressure:vm-floor,advice:balloon-stats-off:vm-slow,"
     "advice:guest-no-agent:vm-nostats"},
    {"guest-compressed", "linux-6.18-real", NULL, KSM_NONE, GUESTS_COMPRESSED, FALSE,
     "critical:guest-compression-thrashing:vm-full,warning:zram-poor-ratio:vm-random",
     "zram used 500.0 MiB of its mem_limit 512.0 MiB"},
    {"fpr-off-host-roomy", "linux-6.18-real", NULL, KSM_NONE, GUESTS_FPR_OFF, FALSE, ""},
    {"fpr-off-host-tight", "zram-thrashing", NULL, KSM_NONE, GUESTS_FPR_OFF, FALSE,
     "critical:host-compression-thrashing:host,info:free-page-reporting-off:vm-nofpr"},
};

/* A tree's samples, read as the sampler would. */
typedef struct {
        VtHostSample host;
        VtHostMmSample mm;
} Readings;

static void
read_tree(const char *tree, gint64 now_us, Readings *ret)
{
        g_autofree char *root = g_test_build_filename(G_TEST_DIST, "data", "mm", tree, NULL);
        g_autofree char *proc = g_build_filename(root, "proc", NULL);
        g_autoptr(GError) error = NULL;

        g_assert_true(vt_host_sample_read(proc, NULL, now_us, &ret->host, &error));
        g_assert_no_error(error);
        vt_host_mm_sample_read(root, now_us, &ret->mm);
}

/* The real host's KSM counters, from the recorded sysfs. */
static void
read_real_ksm(VtKsmSample *ret)
{
        g_autofree char *root =
            g_test_build_filename(G_TEST_DIST, "data", "mm", "linux-6.18-real", NULL);
        guint64 run = 0, sharing = 0, shared = 0, scans = 0;

        g_assert_true(vt_host_text_read_u64(root, "sys/kernel/mm/ksm/run", &run));
        g_assert_true(vt_host_text_read_u64(root, "sys/kernel/mm/ksm/pages_sharing", &sharing));
        g_assert_true(vt_host_text_read_u64(root, "sys/kernel/mm/ksm/pages_shared", &shared));
        g_assert_true(vt_host_text_read_u64(root, "sys/kernel/mm/ksm/full_scans", &scans));
        *ret = (VtKsmSample){.time_us = T0,
                             .run = (guint)run,
                             .pages_sharing = sharing,
                             .pages_shared = shared,
                             .full_scans = scans,
                             .ksmd_cpu_us = -1,
                             .pages_to_scan = 100,
                             .sleep_millisecs = 20};
}

/* Two KSM samples 10 s apart for a case; FALSE for none. */
static gboolean
make_ksm(KsmCase which, VtKsmSample *prev, VtKsmSample *cur)
{
        VtKsmSample base = {.time_us = T0 - DT,
                            .run = 1,
                            .pages_to_scan = 5000,
                            .sleep_millisecs = 10,
                            .pages_shared = 2000,
                            .pages_sharing = 30000,
                            .full_scans = 40,
                            .ksmd_cpu_us = 50 * G_USEC_PER_SEC};

        *prev = base;
        *cur = base;
        cur->time_us = T0;
        cur->full_scans = 41;
        switch (which) {
        case KSM_NONE:
                return FALSE;
        case KSM_REAL:
                read_real_ksm(cur);
                *prev = *cur;
                prev->time_us = T0 - DT;
                return TRUE;
        case KSM_BUSY_NO_YIELD: /* 3 s of CPU in 10 s, 10 pages more */
                cur->ksmd_cpu_us += 3 * G_USEC_PER_SEC;
                cur->pages_sharing += 10;
                return TRUE;
        case KSM_BUSY_YIELDING: /* the same CPU, 100000 pages (390 MiB) more */
                cur->ksmd_cpu_us += 3 * G_USEC_PER_SEC;
                cur->pages_sharing += 100000;
                return TRUE;
        case KSM_IDLE_RUNNING:
                prev->pages_sharing = cur->pages_sharing = 0;
                prev->pages_shared = cur->pages_shared = 0;
                return TRUE;
        case KSM_STOPPED_EMPTY:
                prev->run = cur->run = 0;
                prev->pages_sharing = cur->pages_sharing = 0;
                prev->pages_shared = cur->pages_shared = 0;
                return TRUE;
        }
        return FALSE;
}

/* A guest with everything in order. */
static VtDoctorGuest
healthy(const char *name)
{
        return (VtDoctorGuest){.name = name,
                               .has_balloon = TRUE,
                               .stats_period_s = 2,
                               .has_stats = TRUE,
                               .has_agent = TRUE,
                               .free_page_reporting = VT_DOCTOR_YES,
                               .mem_merge = VT_DOCTOR_YES};
}

static void
guests_plumbing(GArray *g)
{
        VtDoctorGuest nostats = healthy("vm-nostats"), slow = healthy("vm-slow");
        VtDoctorGuest stuck = healthy("vm-stuck"), floor = healthy("vm-floor");
        VtDoctorGuest floor_calm = healthy("vm-floor-calm");

        nostats.stats_period_s = 0;
        nostats.has_stats = FALSE;
        nostats.has_agent = FALSE;
        slow.stats_period_s = 30;
        stuck.balloon_stuck = TRUE;
        floor.at_floor = TRUE;
        floor.under_pressure = TRUE;
        floor_calm.at_floor = TRUE;
        g_array_append_vals(g, (VtDoctorGuest[]){nostats, slow, stuck, floor, floor_calm}, 5);
}

static void
guests_compressed(GArray *g)
{
        VtDoctorGuest full = healthy("vm-full"), random = healthy("vm-random");
        VtDoctorGuest churn = healthy("vm-churn-calm"), good = healthy("vm-zram-good");

        full.compressed = (VtDoctorGuestCompressed){.present = TRUE,
                                                    .zram_orig_bytes = 1500 * MiB,
                                                    .zram_compr_bytes = 480 * MiB,
                                                    .zram_used_bytes = 500 * MiB,
                                                    .zram_limit_bytes = 512 * MiB,
                                                    .psi_some_avg10 = 20.0};
        random.compressed = (VtDoctorGuestCompressed){.present = TRUE,
                                                      .zram_orig_bytes = 100 * MiB,
                                                      .zram_compr_bytes = 88 * MiB,
                                                      .zram_used_bytes = 90 * MiB,
                                                      .psi_some_avg10 = -1.0};
        /* swap-in tracks swap-out but nothing stalls: not thrashing */
        churn.compressed = (VtDoctorGuestCompressed){.present = TRUE,
                                                     .zram_orig_bytes = 64 * MiB,
                                                     .zram_used_bytes = 20 * MiB,
                                                     .has_swap_rates = TRUE,
                                                     .swap_in_per_s = 900,
                                                     .swap_out_per_s = 1000,
                                                     .psi_some_avg10 = 1.0};
        good.compressed = (VtDoctorGuestCompressed){.present = TRUE,
                                                    .zram_orig_bytes = 300 * MiB,
                                                    .zram_used_bytes = 100 * MiB,
                                                    .psi_some_avg10 = 0.0};
        g_array_append_vals(g, (VtDoctorGuest[]){full, random, churn, good}, 4);
}

static void
make_guests(GuestsCase which, GArray *g)
{
        VtDoctorGuest a = healthy("vm-a"), b = healthy("vm-b");

        switch (which) {
        case GUESTS_NONE:
                break;
        case GUESTS_HEALTHY:
                g_array_append_vals(g, (VtDoctorGuest[]){a, b}, 2);
                break;
        case GUESTS_PLUMBING:
                guests_plumbing(g);
                break;
        case GUESTS_UNMERGEABLE:
                a.mem_merge = VT_DOCTOR_NO;
                b.ksm_opt_out = TRUE;
                g_array_append_vals(g, (VtDoctorGuest[]){a, b}, 2);
                break;
        case GUESTS_KSM_COST:
                a = healthy("vm-scattered");
                b = healthy("vm-shared");
                a.has_ksm_stat = b.has_ksm_stat = TRUE;
                a.ksm_rmap_items = b.ksm_rmap_items = 100000;
                a.ksm_merging_pages = 1000;
                b.ksm_merging_pages = 5000;
                g_array_append_vals(g, (VtDoctorGuest[]){a, b}, 2);
                break;
        case GUESTS_COMPRESSED:
                guests_compressed(g);
                break;
        case GUESTS_FPR_OFF:
                a = healthy("vm-nofpr");
                a.free_page_reporting = VT_DOCTOR_NO;
                b.free_page_reporting = VT_DOCTOR_UNKNOWN;
                g_array_append_vals(g, (VtDoctorGuest[]){a, b}, 2);
                break;
        case GUESTS_NUMA:
                a.numa_nodes = "0-1";
                g_array_append_vals(g, (VtDoctorGuest[]){a, b}, 2);
                break;
        }
}

static void
test_case(gconstpointer data)
{
        const DoctorCase *c = data;
        g_autofree Readings *cur = g_new0(Readings, 1);
        g_autofree Readings *prev = g_new0(Readings, 1);
        g_autoptr(GArray) guests = g_array_new(FALSE, TRUE, sizeof(VtDoctorGuest));
        g_autoptr(GPtrArray) findings = NULL;
        g_autoptr(GString) got = g_string_new(NULL);
        g_autoptr(GString) figures = g_string_new(NULL);
        VtKsmSample ksm_prev, ksm;
        VtDoctorInput in = {.ksmd_cpu_share = -1.0};

        read_tree(c->tree, T0, cur);
        in.host = &cur->host;
        in.mm = &cur->mm;
        if (c->tree_prev != NULL) {
                read_tree(c->tree_prev, T0 - DT, prev);
                in.host_prev = &prev->host;
                in.mm_prev = &prev->mm;
        }
        if (make_ksm(c->ksm, &ksm_prev, &ksm)) {
                in.ksm = &ksm;
                in.ksm_prev = &ksm_prev;
        }
        in.other_ksm_writer = c->other_writer;
        in.other_ksm_writer_name = c->other_writer ? "ksmtuned (pid 812)" : NULL;
        make_guests(c->guests, guests);
        in.guests = (const VtDoctorGuest *)guests->data;
        in.n_guests = guests->len;

        findings = vt_doctor_run(&in);
        for (guint i = 0; i < findings->len; i++) {
                const VtDoctorFinding *f = g_ptr_array_index(findings, i);

                g_test_message("%s %s %s: %s [%s] -> %s", vt_doctor_severity_to_string(f->severity),
                               f->rule, f->subject, f->title, f->figures, f->advice);
                g_assert_true(f->title[0] != '\0' && f->advice[0] != '\0');
                g_string_append_printf(got, "%s%s:%s:%s", i > 0 ? "," : "",
                                       vt_doctor_severity_to_string(f->severity), f->rule,
                                       f->subject);
                g_string_append_printf(figures, "%s\n", f->figures);
        }
        g_assert_cmpstr(got->str, ==, c->expected);
        if (c->figures_contain != NULL)
                g_assert_nonnull(strstr(figures->str, c->figures_contain));
}

/* Every rule of the table fires in some case. */
static void
test_every_rule_fires(void)
{
        guint n;
        const VtDoctorRule *rules = vt_doctor_rules_get(&n);

        g_assert_cmpuint(n, >=, 14);
        for (guint i = 0; i < n; i++) {
                g_autofree char *needle = g_strdup_printf(":%s:", rules[i].id);
                gboolean found = FALSE;

                for (gsize k = 0; k < G_N_ELEMENTS(cases) && !found; k++) {
                        g_autofree char *hay = g_strdup_printf(",%s,", cases[k].expected);

                        found = strstr(hay, needle) != NULL;
                }
                if (!found)
                        g_error("rule '%s' fires in no case", rules[i].id);
        }
        g_assert_cmpstr(vt_doctor_severity_to_string(VT_DOCTOR_SEVERITY_MAX), ==, "?");
}

/* 200 guests, every rule's inputs present: the run time docs/benchmarks.md quotes. */
static void
test_bench_200(void)
{
        g_autofree Readings *cur = g_new0(Readings, 1);
        g_autofree Readings *prev = g_new0(Readings, 1);
        g_autoptr(GArray) guests = g_array_new(FALSE, TRUE, sizeof(VtDoctorGuest));
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        VtKsmSample ksm_prev, ksm;
        VtDoctorInput in = {.ksmd_cpu_share = -1.0};
        gint64 start, best = G_MAXINT64;
        guint n_findings = 0;

        read_tree("fragmented", T0, cur);
        read_tree("fragmented-before", T0 - DT, prev);
        make_ksm(KSM_BUSY_NO_YIELD, &ksm_prev, &ksm);
        for (guint i = 0; i < 200; i++) {
                VtDoctorGuest g = healthy(NULL);
                char *name = g_strdup_printf("vm-%03u", i);

                g_ptr_array_add(names, name);
                g.name = name;
                g.has_agent = i % 3 != 0;
                g.stats_period_s = i % 7 == 0 ? 0 : 2;
                g.at_floor = g.under_pressure = i % 11 == 0;
                g.has_ksm_stat = TRUE;
                g.ksm_rmap_items = 100000;
                g.ksm_merging_pages = 500 + i * 50;
                g.compressed = (VtDoctorGuestCompressed){.present = TRUE,
                                                         .zram_orig_bytes = 200 * MiB,
                                                         .zram_used_bytes = 150 * MiB,
                                                         .zram_limit_bytes = 160 * MiB,
                                                         .psi_some_avg10 = (double)(i % 30)};
                g_array_append_val(guests, g);
        }
        in = (VtDoctorInput){.host = &cur->host,
                             .host_prev = &prev->host,
                             .mm = &cur->mm,
                             .mm_prev = &prev->mm,
                             .ksm = &ksm,
                             .ksm_prev = &ksm_prev,
                             .ksmd_cpu_share = -1.0,
                             .guests = (VtDoctorGuest *)guests->data,
                             .n_guests = guests->len};
        for (guint run = 0; run < 20; run++) {
                g_autoptr(GPtrArray) findings = NULL;
                gint64 took;

                start = g_get_monotonic_time();
                findings = vt_doctor_run(&in);
                took = g_get_monotonic_time() - start;
                best = MIN(best, took);
                n_findings = findings->len;
        }
        g_test_message("doctor: 200 guests, %u findings, best of 20 runs %.3f ms", n_findings,
                       best / 1000.0);
        g_assert_cmpuint(n_findings, >, 200);
        /* The goal is 100 ms; the bound leaves room for a loaded test machine. */
        g_assert_cmpint(best, <, 1000 * 1000);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *name = g_strdup_printf("/doctor/rules/%s", cases[i].name);
                g_test_add_data_func(name, &cases[i], test_case);
        }
        g_test_add_func("/doctor/rules/every-rule-fires", test_every_rule_fires);
        g_test_add_func("/doctor/rules/bench-200-guests", test_bench_200);
        return g_test_run();
}
