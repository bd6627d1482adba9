/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capacity from tables of snapshots, and from a history written here with the recorder. */
#include <math.h>

#include "host/planning/planning-capacity.h"
#include "host/recorder/recorder-reader.h"
#include "tests/vt-test-planning.h"
#include "tests/vt-test-util.h"

#define MIB (G_GUINT64_CONSTANT(1) << 20)
#define GIB (G_GUINT64_CONSTANT(1) << 30)

/* --- series ------------------------------------------------------------------ */

static void
test_percentile(void)
{
        const double values[] = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};

        g_assert_cmpfloat(vt_planning_percentile(values, 10, 95), ==, 10);
        g_assert_cmpfloat(vt_planning_percentile(values, 10, 90), ==, 9);
        g_assert_cmpfloat(vt_planning_percentile(values, 10, 50), ==, 5);
        g_assert_cmpfloat(vt_planning_percentile(values, 10, 0), ==, 1);
        g_assert_cmpfloat(vt_planning_percentile(values, 10, 5), ==, 1);
        g_assert_cmpfloat(vt_planning_percentile(values, 1, 95), ==, 5);
        g_assert_cmpfloat(vt_planning_percentile(NULL, 0, 95), ==, 0);
}

static void
test_fit(void)
{
        const double x[] = {1e9, 1e9 + 2, 1e9 + 4, 1e9 + 6};
        const double y[] = {100, 96, 92, 88};
        const double same[] = {5, 5, 5, 5};
        double slope = 0, intercept = 0, r2 = 0;

        g_assert_true(vt_planning_fit_line(x, y, 4, &slope, &intercept, &r2));
        g_assert_cmpfloat_with_epsilon(slope, -2.0, 1e-9);
        g_assert_cmpfloat_with_epsilon(r2, 1.0, 1e-9);
        g_assert_false(vt_planning_fit_line(same, y, 4, &slope, &intercept, &r2));
        g_assert_false(vt_planning_fit_line(x, y, 1, &slope, &intercept, &r2));
}

typedef struct {
        guint n;
        double variation;
        VtPlanningConfidence expected;
} ConfidenceCase;

static const ConfidenceCase confidence_cases[] = {
    {0, 0.0, VT_PLANNING_CONFIDENCE_NONE},      {10, 0.0, VT_PLANNING_CONFIDENCE_LOW},
    {100, 0.6, VT_PLANNING_CONFIDENCE_LOW},     {100, 0.1, VT_PLANNING_CONFIDENCE_MEDIUM},
    {1000, 0.3, VT_PLANNING_CONFIDENCE_MEDIUM}, {1000, 0.1, VT_PLANNING_CONFIDENCE_HIGH},
    {1000, NAN, VT_PLANNING_CONFIDENCE_LOW},
};

static void
test_confidence(void)
{
        for (guint i = 0; i < G_N_ELEMENTS(confidence_cases); i++) {
                const ConfidenceCase *c = &confidence_cases[i];

                g_assert_cmpint(vt_planning_confidence_judge(c->n, c->variation), ==, c->expected);
        }
}

typedef struct {
        const char *text;
        gint64 us; /* 0: refused */
} DurationCase;

static const DurationCase duration_cases[] = {
    {"90", 90 * G_USEC_PER_SEC},
    {"90s", 90 * G_USEC_PER_SEC},
    {"30m", G_GINT64_CONSTANT(1800) * G_USEC_PER_SEC},
    {"1.5h", G_GINT64_CONSTANT(5400) * G_USEC_PER_SEC},
    {"7d", G_GINT64_CONSTANT(604800) * G_USEC_PER_SEC},
    {"", 0},
    {"h", 0},
    {"1w", 0},
    {"-1h", 0},
    {"0s", 0},
    {"nan", 0},
    {"99999d", 0},
};

static void
test_duration(void)
{
        for (guint i = 0; i < G_N_ELEMENTS(duration_cases); i++) {
                const DurationCase *c = &duration_cases[i];
                g_autoptr(GError) error = NULL;
                gint64 us = -1;
                gboolean ok = vt_planning_duration_parse(c->text, &us, &error);

                g_test_message("'%s'", c->text);
                g_assert_cmpint(ok, ==, c->us != 0);
                if (ok)
                        g_assert_cmpint(us, ==, c->us);
                else
                        g_assert_error(error, VT_PLANNING_ERROR, VT_PLANNING_ERROR_INVALID);
        }
}

/* --- capacity from snapshots --------------------------------------------------- */

typedef struct {
        const char *name;
        guint64 mem_available;
        guint64 budget;
        guint64 guests_actual;
        guint64 ksm_saved;
        guint n_add;
        guint64 add_bytes;
        VtPlanningCapacityGuest guests[3];
        gint64 host;
        gint64 balloon;
        gint64 ksm;
        gboolean fits;
        guint n_fit;
        const char *verdict;
} CapacityCase;

/* An 8 GiB host, 256 MiB reserve; guests of 2 GiB (floor 512 MiB). */
static const CapacityCase capacity_cases[] = {
    {"spare-host-only",
     4 * GIB,
     0,
     0,
     0,
     0,
     0,
     {{NULL}},
     4 * GIB - 256 * MIB,
     0,
     0,
     TRUE,
     0,
     "3.8 GiB really spare (host 3.8 GiB, balloons 0 B)"},
    {"fits-with-balloon",
     1 * GIB,
     0,
     0,
     0,
     1,
     GIB,
     {{"web1", 2 * GIB, 2 * GIB, 0, 0, 1 * GIB, NULL}},
     768 * MIB,
     1 * GIB,
     0,
     TRUE,
     1,
     "fits: 1 x 1.0 GiB need 1.0 GiB"},
    {"floor-caps-balloon",
     1 * GIB,
     0,
     0,
     0,
     1,
     2 * GIB,
     {{"web1", 2 * GIB, 2 * GIB, 0, 0, 100 * MIB, NULL}},
     768 * MIB,
     1536 * MIB,
     0,
     TRUE,
     1,
     "fits: 1 x 2.0 GiB"},
    {"does-not-fit",
     1 * GIB,
     0,
     0,
     0,
     4,
     GIB,
     {{"web1", 2 * GIB, 2 * GIB, 0, 0, 1 * GIB, NULL}},
     768 * MIB,
     1 * GIB,
     0,
     FALSE,
     1,
     "does not fit: 4 x 1.0 GiB need 4.0 GiB"},
    {"fixed-guests-not-counted",
     1 * GIB,
     0,
     0,
     0,
     0,
     0,
     {{"held", 2 * GIB, 2 * GIB, 0, 0, 1 * GIB, "held by hand"},
      {"nowant", 2 * GIB, 2 * GIB, 0, 0, 0, NULL}},
     768 * MIB,
     0,
     0,
     TRUE,
     0,
     "768.0 MiB really spare"},
    {"wanting-more-takes",
     1 * GIB,
     0,
     0,
     0,
     0,
     0,
     {{"hungry", 2 * GIB, 1 * GIB, 0, 0, 1536 * MIB, NULL}},
     768 * MIB,
     -512 * (gint64)MIB,
     0,
     TRUE,
     0,
     "256.0 MiB really spare"},
    {"budget-binds",
     4 * GIB,
     3 * GIB,
     2560 * MIB,
     0,
     0,
     0,
     {{NULL}},
     512 * MIB,
     0,
     0,
     TRUE,
     0,
     NULL},
    {"over-budget-no-room",
     4 * GIB,
     2 * GIB,
     2560 * MIB,
     0,
     1,
     64 * MIB,
     {{NULL}},
     0,
     0,
     0,
     FALSE,
     0,
     "does not fit"},
    /* KSM saves 25 % of 4 GiB of guests: new guests are expected to save as much. */
    {"ksm-on-new-guests",
     1 * GIB,
     0,
     0,
     1 * GIB,
     1,
     1 * GIB,
     {{"a", 2 * GIB, 2 * GIB, 0, 0, 2 * GIB, NULL}, {"b", 2 * GIB, 2 * GIB, 0, 0, 2 * GIB, NULL}},
     768 * MIB,
     0,
     256 * MIB,
     TRUE,
     1,
     "need 1.0 GiB (after KSM 768.0 MiB); 768.0 MiB spare leaves 0 B"},
};

static void
test_capacity_case(gconstpointer data)
{
        const CapacityCase *c = data;
        VtBalloonConfig config;
        VtPlanningCapacityInput input = {0};
        g_autoptr(VtPlanningCapacity) capacity = NULL;
        guint n = 0;

        while (n < G_N_ELEMENTS(c->guests) && c->guests[n].name != NULL)
                n++;
        vt_balloon_config_init(&config);
        input.config = &config;
        input.mem_total = 8 * GIB;
        input.mem_available = c->mem_available;
        input.reserve = 256 * MIB;
        input.budget = c->budget;
        input.guests_actual = c->guests_actual;
        input.ksm_known = c->ksm_saved > 0;
        input.ksm_saved = c->ksm_saved;
        for (guint i = 0; i < n; i++)
                input.ksm_mergeable += c->guests[i].max_bytes;
        input.guests = c->guests;
        input.n_guests = n;
        input.n_add = c->n_add;
        input.add_bytes = c->add_bytes;
        input.percentile = 95;
        capacity = vt_planning_capacity_compute(&input);
        g_test_message("%s", capacity->verdict);
        g_assert_cmpint(capacity->rooms[VT_PLANNING_SOURCE_HOST].bytes, ==, c->host);
        g_assert_cmpint(capacity->rooms[VT_PLANNING_SOURCE_BALLOON].bytes, ==, c->balloon);
        g_assert_cmpint(capacity->rooms[VT_PLANNING_SOURCE_KSM].bytes, ==, c->ksm);
        g_assert_cmpint(capacity->rooms[VT_PLANNING_SOURCE_COMPRESSED].bytes, ==, 0);
        g_assert_cmpint(capacity->fits, ==, c->fits);
        g_assert_cmpuint(capacity->n_fit, ==, c->n_fit);
        /* Nothing recorded: the current values, no confidence, no trend. */
        g_assert_cmpint(capacity->rooms[VT_PLANNING_SOURCE_HOST].confidence, ==,
                        VT_PLANNING_CONFIDENCE_NONE);
        g_assert_false(capacity->trend.known);
        g_assert_cmpint(capacity->trend.short_in_us, ==, -1);
        if (c->verdict != NULL && strstr(capacity->verdict, c->verdict) == NULL)
                g_error("'%s' not in '%s'", c->verdict, capacity->verdict);
}

/* --- capacity from a recorded history ----------------------------------------- */

static VtPlanningHistory *
history_read(const char *dir, gint64 since_wall_us)
{
        g_autoptr(VtRecorderReader) reader = NULL;
        g_autoptr(GError) error = NULL;
        VtPlanningHistory *history = vt_planning_history_new(since_wall_us, 4096);
        VtRecorderRecord *record = NULL;

        reader = vt_recorder_reader_new(dir, &error);
        g_assert_no_error(error);
        while (vt_recorder_reader_next(reader, &record, &error)) {
                vt_planning_history_add(history, record);
                vt_recorder_record_free(record);
        }
        g_assert_no_error(error);
        return history;
}

#define END_WALL (G_GINT64_CONSTANT(1795507383) * G_USEC_PER_SEC)

typedef struct {
        const char *name;
        gint64 available_step; /* per 2 s tick */
        gint64 short_in_s;     /* expected, -1: not at this trend */
        const char *trend;
} HistoryCase;

static const HistoryCase history_cases[] = {
    /* 1 MiB every 2 s: 1800 MiB an hour, far past 1 % of 8 GiB. From
     * 4 GiB - 256 MiB reserve at the end down to the 819 MiB short line. */
    {"falling", -(gint64)MIB, -2, "short in about"},
    {"flat", 0, -1, "not at this trend: free memory flat"},
    {"rising", (gint64)MIB, -1, "not at this trend: free memory rising"},
};

static void
test_capacity_history(gconstpointer data)
{
        const HistoryCase *c = data;
        static const guint64 wants[] = {
            600 * MIB, 700 * MIB, 800 * MIB, 1200 * MIB, 700 * MIB, 600 * MIB, 650 * MIB,
            700 * MIB, 750 * MIB, 640 * MIB, 700 * MIB,  720 * MIB, 680 * MIB, 690 * MIB,
            710 * MIB, 660 * MIB, 670 * MIB, 700 * MIB,  730 * MIB, 760 * MIB, 0};
        g_autofree char *dir = g_dir_make_tmp("vt-planning-XXXXXX", NULL);
        g_autoptr(VtPlanningHistory) history = NULL;
        g_autoptr(VtPlanningCapacity) capacity = NULL;
        const guint n_ticks = 400;
        VtTestHistory h = {
            .end_wall_us = END_WALL,
            .n_ticks = n_ticks,
            .mem_total = 8 * GIB,
            .available_step = c->available_step,
            .guest = "web1",
            .guest_max = 2 * GIB,
            .guest_actual = 2 * GIB,
            .wants = wants,
            .push_every = 10,
            .ksm_pages_sharing = 131072, /* 512 MiB of the guest's 2 GiB */
        };
        VtPlanningCapacityGuest guest = {"web1", 2 * GIB, 2 * GIB, 0, 0, 600 * MIB, NULL};
        VtPlanningCapacityInput input = {0};
        const VtPlanningHistoryGuest *hg;

        h.available0 = (guint64)((gint64)(4 * GIB) - c->available_step * (n_ticks - 1));
        vt_test_history_write(dir, &h);
        /* The window leaves out the first 100 ticks. */
        history = history_read(dir, END_WALL - 299 * 2 * G_USEC_PER_SEC);
        g_assert_cmpuint(history->n_ticks, ==, 300);
        g_assert_cmpuint(history->n_ksm, ==, 300);
        g_assert_true(history->has_policy);
        g_assert_cmpstr(history->policy_name, ==, "vmtide");
        hg = vt_planning_history_get_guest(history, "web1");
        g_assert_nonnull(hg);
        g_assert_cmpuint(hg->want->len, ==, 300);
        g_assert_cmpuint(hg->n_pushes, ==, 30);

        input.config = &history->config;
        input.history = history;
        input.mem_total = 8 * GIB;
        input.mem_available = 4 * GIB;
        input.reserve = 256 * MIB;
        input.ksm_known = TRUE;
        input.ksm_saved = 512 * MIB;
        input.ksm_mergeable = 2 * GIB;
        input.guests = &guest;
        input.n_guests = 1;
        input.n_add = 1;
        input.add_bytes = 1 * GIB;
        input.percentile = 95;
        input.now_wall_us = END_WALL;
        capacity = vt_planning_capacity_compute(&input);
        g_test_message("%s\n%s", capacity->verdict, capacity->trend.detail);

        /* The want at p95 (1200 MiB once in 20: the 95th is 800 MiB), not
         * the current 600 MiB: 2 GiB - 800 MiB. */
        g_assert_cmpuint(capacity->guests[0].want_recent, ==, 800 * MIB);
        g_assert_cmpint(capacity->rooms[VT_PLANNING_SOURCE_BALLOON].bytes, ==, 1248 * MIB);
        g_assert_cmpint(capacity->guests[0].confidence, ==, VT_PLANNING_CONFIDENCE_HIGH);
        /* KSM: 25 % of the guests' memory, expected on the new 1 GiB guest. */
        g_assert_cmpint(capacity->rooms[VT_PLANNING_SOURCE_KSM].bytes, ==, 256 * MIB);
        g_assert_cmpint(capacity->rooms[VT_PLANNING_SOURCE_KSM].confidence, ==,
                        VT_PLANNING_CONFIDENCE_HIGH);
        g_assert_cmpuint(capacity->need, ==, 768 * MIB);
        g_assert_true(capacity->fits);
        /* 300 samples of the host's free memory. */
        g_assert_cmpuint(capacity->rooms[VT_PLANNING_SOURCE_HOST].summary.n, ==, 300);
        g_assert_true(capacity->trend.known);
        g_assert_nonnull(strstr(capacity->trend.detail, c->trend));
        if (c->short_in_s == -1) {
                g_assert_cmpint(capacity->trend.short_in_us, ==, -1);
        } else {
                /* (3840 MiB - 819.2 MiB) / (0.5 MiB/s) = 6041.6 s */
                g_assert_cmpint(capacity->trend.short_in_us / G_USEC_PER_SEC, >=, 6040);
                g_assert_cmpint(capacity->trend.short_in_us / G_USEC_PER_SEC, <=, 6043);
        }
        vt_test_remove_tree(dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/planning/series/percentile", test_percentile);
        g_test_add_func("/planning/series/fit", test_fit);
        g_test_add_func("/planning/series/confidence", test_confidence);
        g_test_add_func("/planning/series/duration", test_duration);
        for (guint i = 0; i < G_N_ELEMENTS(capacity_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/planning/capacity/%s", capacity_cases[i].name);

                g_test_add_data_func(path, &capacity_cases[i], test_capacity_case);
        }
        for (guint i = 0; i < G_N_ELEMENTS(history_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/planning/capacity/history/%s", history_cases[i].name);

                g_test_add_data_func(path, &history_cases[i], test_capacity_history);
        }
        return g_test_run();
}
