/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guests at risk from tables of snapshots: each rule, its threshold, the ranking. */
#include <math.h>

#include "host/planning/planning-risk.h"

/* Each case is a healthy guest with the fields it is about overridden. */
#pragma GCC diagnostic ignored "-Woverride-init"

#define MIB (G_GUINT64_CONSTANT(1) << 20)
#define S   G_USEC_PER_SEC

/* A healthy 1 GiB guest at 768 MiB: fresh stats and agent, no pressure. */
#define HEALTHY(name_)                                                                             \
        .name = (name_), .running = TRUE, .has_balloon = TRUE, .reachable = TRUE,                  \
        .max_bytes = 1024 * MIB, .actual_bytes = 768 * MIB, .has_stats = TRUE,                     \
        .stats_age_us = 2 * S, .stats_available = 400 * MIB, .has_agent = TRUE,                    \
        .agent_connected = TRUE, .agent_age_us = 1 * S, .agent_available = 400 * MIB,              \
        .psi_some = 0.0, .psi_full = 0.0, .oom_kills = 0, .oom_kills_before = 0,                   \
        .major_faults = 100, .major_faults_before = 90, .swap_in = 0, .swap_in_before = 0,         \
        .interval_s = 2.0

typedef struct {
        const char *name;
        VtPlanningRiskGuest guest;
        const char *rules[4]; /* ids expected, worst first; none: not at risk */
        VtPlanningRiskSeverity worst;
} RiskCase;

static const RiskCase risk_cases[] = {
    {"healthy", {HEALTHY("g")}, {NULL}, 0},
    {"not-running", {HEALTHY("g"), .running = FALSE, .psi_full = 50}, {NULL}, 0},
    {"psi-full",
     {HEALTHY("g"), .psi_full = 5.0, .psi_some = 4.0},
     {"psi-full"},
     VT_PLANNING_RISK_CRITICAL},
    {"psi-full-under", {HEALTHY("g"), .psi_full = 4.99}, {NULL}, 0},
    {"psi-some", {HEALTHY("g"), .psi_some = 10.0}, {"psi-some"}, VT_PLANNING_RISK_HIGH},
    {"psi-nan", {HEALTHY("g"), .psi_some = NAN, .psi_full = NAN}, {NULL}, 0},
    /* PSI of a stale agent is not believed; the agent is reported. */
    {"psi-stale-agent",
     {HEALTHY("g"), .psi_some = 50, .agent_age_us = 31 * S},
     {"agent-missing"},
     VT_PLANNING_RISK_INFO},
    {"oom-new",
     {HEALTHY("g"), .oom_kills = 3, .oom_kills_before = 2},
     {"oom-kills"},
     VT_PLANNING_RISK_CRITICAL},
    {"oom-since-boot",
     {HEALTHY("g"), .oom_kills = 2, .oom_kills_before = 2},
     {"oom-kills"},
     VT_PLANNING_RISK_WARNING},
    /* 256 pages/s of 4 KiB: 1 MiB/s over 2 s. */
    {"swap-in",
     {HEALTHY("g"), .swap_in = 2 * MIB, .swap_in_before = 0},
     {"swap-in"},
     VT_PLANNING_RISK_HIGH},
    {"swap-in-under", {HEALTHY("g"), .swap_in = 2 * MIB - 1, .swap_in_before = 0}, {NULL}, 0},
    {"swap-one-sample", {HEALTHY("g"), .swap_in = 1 << 30, .swap_in_before = -1}, {NULL}, 0},
    {"swap-rebooted", {HEALTHY("g"), .swap_in = 0, .swap_in_before = 1 << 30}, {NULL}, 0},
    {"major-faults",
     {HEALTHY("g"), .major_faults = 290, .major_faults_before = 90},
     {"major-faults"},
     VT_PLANNING_RISK_WARNING},
    {"major-faults-under",
     {HEALTHY("g"), .major_faults = 289, .major_faults_before = 90},
     {NULL},
     0},
    /* Headroom: 15 % of 1 GiB = 153.6 MiB. */
    {"available-low",
     {HEALTHY("g"), .agent_available = 150 * MIB},
     {"available-low"},
     VT_PLANNING_RISK_WARNING},
    {"available-very-low",
     {HEALTHY("g"), .agent_available = 30 * MIB},
     {"available-low"},
     VT_PLANNING_RISK_HIGH},
    /* The stats stand in for a stale agent. */
    {"available-from-stats",
     {HEALTHY("g"), .agent_connected = FALSE, .agent_available = 500 * MIB,
      .stats_available = 100 * MIB},
     {"available-low", "agent-missing"},
     VT_PLANNING_RISK_WARNING},
    /* Default minimum: 25 % of 1 GiB. */
    {"at-minimum",
     {HEALTHY("g"), .actual_bytes = 256 * MIB, .psi_some = 12},
     {"psi-some", "at-minimum"},
     VT_PLANNING_RISK_HIGH},
    {"at-minimum-pushes",
     {HEALTHY("g"), .actual_bytes = 258 * MIB, .pushes = 3},
     {"at-minimum"},
     VT_PLANNING_RISK_HIGH},
    {"at-minimum-calm", {HEALTHY("g"), .actual_bytes = 256 * MIB}, {NULL}, 0},
    {"at-configured-minimum",
     {HEALTHY("g"), .min_bytes = 512 * MIB, .actual_bytes = 512 * MIB, .pushes = 1},
     {"at-minimum"},
     VT_PLANNING_RISK_HIGH},
    {"stuck", {HEALTHY("g"), .stuck = TRUE}, {"balloon-stuck"}, VT_PLANNING_RISK_WARNING},
    {"stats-stale", {HEALTHY("g"), .stats_age_us = 31 * S}, {"stats-stale"}, VT_PLANNING_RISK_INFO},
    {"blind",
     {HEALTHY("g"), .has_stats = FALSE, .has_agent = FALSE},
     {"stats-stale", "agent-missing"},
     VT_PLANNING_RISK_WARNING},
    {"unreachable", {HEALTHY("g"), .reachable = FALSE}, {"unreachable"}, VT_PLANNING_RISK_INFO},
};

static void
test_risk_case(gconstpointer data)
{
        const RiskCase *c = data;
        VtBalloonConfig config;
        g_autoptr(VtPlanningRisk) risk = NULL;
        const VtPlanningRiskRuleInfo *rules;
        guint n_rules, n_expected = 0;

        vt_balloon_config_init(&config);
        rules = vt_planning_risk_rules(&n_rules);
        while (n_expected < G_N_ELEMENTS(c->rules) && c->rules[n_expected] != NULL)
                n_expected++;
        risk = vt_planning_risk_assess(&c->guest, 1, &config, 4096);
        g_assert_cmpuint(risk->n_checked, ==, c->guest.running ? 1 : 0);
        if (n_expected == 0) {
                if (risk->n_guests > 0)
                        g_error("'%s' fired: %s", rules[risk->guests[0].findings[0].rule].id,
                                risk->guests[0].findings[0].detail);
                return;
        }
        g_assert_cmpuint(risk->n_guests, ==, 1);
        for (guint i = 0; i < risk->guests[0].n_findings; i++)
                g_test_message("%s: %s", rules[risk->guests[0].findings[i].rule].id,
                               risk->guests[0].findings[i].detail);
        g_assert_cmpuint(risk->guests[0].n_findings, ==, n_expected);
        for (guint i = 0; i < n_expected; i++)
                g_assert_cmpstr(rules[risk->guests[0].findings[i].rule].id, ==, c->rules[i]);
        g_assert_cmpint(risk->guests[0].worst, ==, c->worst);
}

/* The most at risk first: critical before many warnings, then by name. */
static void
test_risk_rank(void)
{
        const VtPlanningRiskGuest guests[] = {
            {HEALTHY("calm")},
            {HEALTHY("warned"), .stuck = TRUE, .agent_available = 150 * MIB, .major_faults = 1000},
            {HEALTHY("dying"), .oom_kills = 1, .oom_kills_before = 0},
            {HEALTHY("blind-b"), .has_stats = FALSE, .has_agent = FALSE},
            {HEALTHY("blind-a"), .has_stats = FALSE, .has_agent = FALSE},
        };
        static const char *const order[] = {"dying", "warned", "blind-a", "blind-b"};
        VtBalloonConfig config;
        g_autoptr(VtPlanningRisk) risk = NULL;

        vt_balloon_config_init(&config);
        risk = vt_planning_risk_assess(guests, G_N_ELEMENTS(guests), &config, 4096);
        g_assert_cmpuint(risk->n_checked, ==, 5);
        g_assert_cmpuint(risk->n_guests, ==, G_N_ELEMENTS(order));
        for (guint i = 0; i < G_N_ELEMENTS(order); i++)
                g_assert_cmpstr(risk->guests[i].name, ==, order[i]);
        g_assert_cmpuint(risk->guests[1].n_findings, ==, 3);
}

/* Every rule is documented: id, source, threshold; in order. */
static void
test_risk_rules(void)
{
        guint n = 0;
        const VtPlanningRiskRuleInfo *rules = vt_planning_risk_rules(&n);

        g_assert_cmpuint(n, ==, VT_PLANNING_RISK_MAX);
        for (guint i = 0; i < n; i++) {
                g_assert_cmpint(rules[i].rule, ==, i);
                g_assert_nonnull(rules[i].id);
                g_assert_cmpuint(strlen(rules[i].source), >, 0);
                g_assert_cmpuint(strlen(rules[i].threshold), >, 0);
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(risk_cases); i++) {
                g_autofree char *path = g_strdup_printf("/planning/risk/%s", risk_cases[i].name);

                g_test_add_data_func(path, &risk_cases[i], test_risk_case);
        }
        g_test_add_func("/planning/risk/rank", test_risk_rank);
        g_test_add_func("/planning/risk/rules", test_risk_rules);
        return g_test_run();
}
