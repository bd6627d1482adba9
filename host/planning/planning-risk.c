/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guests at risk now: documented rules over a snapshot, ranked. Pure. */
#include "host/planning/planning-risk.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

#include "common/vt-size.h"

/*
 * Theory of operation. Each rule reads one figure the daemon reports for
 * a guest and compares it with a line, the balloon policy's own tunables
 * where it has one (the config in force: the history's last policy
 * record, else the defaults), so that "at risk" here and "under pressure"
 * in the policy mean the same. Rates need two samples of a counter; a
 * counter that went backwards (the guest rebooted) gives no rate. A
 * guest's findings are weighed 1, 10, 100, 1000 by severity and the sum
 * ranks it; a guest no rule fires for is not listed.
 */

static const VtPlanningRiskRuleInfo rules[] = {
    {VT_PLANNING_RISK_OOM_KILLS, "oom-kills", VT_PLANNING_RISK_CRITICAL,
     "agent: vm.oom_kill, counted since the guest booted",
     "a kill between the two samples (critical); kills since boot with one sample (warning)"},
    {VT_PLANNING_RISK_PSI_FULL, "psi-full", VT_PLANNING_RISK_CRITICAL,
     "agent: memory PSI full avg10", ">= psi_critical (default 5 %), the host's critical line"},
    {VT_PLANNING_RISK_PSI_SOME, "psi-some", VT_PLANNING_RISK_HIGH, "agent: memory PSI some avg10",
     ">= guest_pressure_psi (default 10 %)"},
    {VT_PLANNING_RISK_SWAP_IN, "swap-in", VT_PLANNING_RISK_HIGH,
     "balloon stats: stat-swap-in, a rate between two samples",
     ">= swap_in_tight pages/s (default 256, 1 MiB/s)"},
    {VT_PLANNING_RISK_MAJOR_FAULTS, "major-faults", VT_PLANNING_RISK_WARNING,
     "agent: vm.pgmajfault, else balloon stats: stat-major-faults; a rate between two samples",
     ">= 100 a second (VT_PLANNING_RISK_MAJOR_FAULTS_PER_S)"},
    {VT_PLANNING_RISK_AVAILABLE_LOW, "available-low", VT_PLANNING_RISK_WARNING,
     "agent: MemAvailable when fresh, else balloon stats: stat-available-memory",
     "< the headroom, guest_headroom_fraction of its maximum (15 %) and at least "
     "guest_headroom_min (64 MiB); high under guest_low_fraction of its size (5 %)"},
    {VT_PLANNING_RISK_AT_MINIMUM, "at-minimum", VT_PLANNING_RISK_HIGH,
     "query-guests: actual and policy min; agent PSI and MemAvailable; recorded pushes",
     "balloon within 4 MiB of its minimum while PSI some >= guest_pressure_psi, MemAvailable "
     "< the headroom, or the agent pushed"},
    {VT_PLANNING_RISK_BALLOON_STUCK, "balloon-stuck", VT_PLANNING_RISK_WARNING,
     "query-guests: stuck", "the balloon did not move when last asked"},
    {VT_PLANNING_RISK_STATS_STALE, "stats-stale", VT_PLANNING_RISK_WARNING, "balloon stats: age",
     "none, or older than stale_us (default 30 s); warning when the agent "
     "is missing too (the policy is blind), else info"},
    {VT_PLANNING_RISK_AGENT_MISSING, "agent-missing", VT_PLANNING_RISK_INFO, "agent: its report",
     "no agent, its port not connected, or its report older than stale_us"},
    {VT_PLANNING_RISK_UNREACHABLE, "unreachable", VT_PLANNING_RISK_INFO, "query-guests: reachable",
     "the backend cannot drive the guest now (libvirtd restarting)"},
};

G_STATIC_ASSERT(G_N_ELEMENTS(rules) == VT_PLANNING_RISK_MAX);

/**
 * vt_planning_risk_rules:
 * @ret_n: (out): how many
 *
 * Returns: (transfer none) (array length=ret_n): the rules, indexed by
 *     #VtPlanningRiskRule
 */
const VtPlanningRiskRuleInfo *
vt_planning_risk_rules(guint *ret_n)
{
        g_return_val_if_fail(ret_n != NULL, NULL);
        *ret_n = G_N_ELEMENTS(rules);
        return rules;
}

/**
 * vt_planning_risk_severity_to_string:
 * @severity: a #VtPlanningRiskSeverity
 *
 * Returns: "info", "warning", "high", "critical" (static)
 */
const char *
vt_planning_risk_severity_to_string(VtPlanningRiskSeverity severity)
{
        static const char *const names[] = {"info", "warning", "high", "critical"};

        if ((guint)severity >= G_N_ELEMENTS(names))
                return "unknown";
        return names[severity];
}

static void G_GNUC_PRINTF(6, 7) finding_add(VtPlanningRiskResult *result, VtPlanningRiskRule rule,
                                            VtPlanningRiskSeverity severity, double value,
                                            double threshold, const char *format, ...)
{
        static const guint weights[] = {1, 10, 100, 1000};
        VtPlanningRiskFinding *f;
        va_list args;

        g_assert(result->n_findings < VT_PLANNING_RISK_MAX);
        f = &result->findings[result->n_findings++];
        f->rule = rule;
        f->severity = severity;
        f->value = value;
        f->threshold = threshold;
        va_start(args, format);
        f->detail = g_strdup_vprintf(format, args);
        va_end(args);
        result->score += weights[severity];
        result->worst = MAX(result->worst, severity);
}

/* A rate between two samples of a counter; negative when unknown. */
static double
counter_rate(gint64 before, gint64 after, double interval_s)
{
        if (before < 0 || after < 0 || after < before || !(interval_s > 0))
                return -1.0;
        return (double)(after - before) / interval_s;
}

static gboolean
agent_fresh(const VtPlanningRiskGuest *g, const VtBalloonConfig *config)
{
        return g->has_agent && g->agent_connected && g->agent_age_us <= config->stale_us;
}

static gboolean
stats_fresh(const VtPlanningRiskGuest *g, const VtBalloonConfig *config)
{
        return g->has_stats && g->stats_age_us <= config->stale_us;
}

/* MemAvailable from the agent when fresh, else the balloon stats; 0: unknown. */
static guint64
guest_available(const VtPlanningRiskGuest *g, const VtBalloonConfig *config)
{
        if (agent_fresh(g, config) && g->agent_available > 0)
                return g->agent_available;
        if (stats_fresh(g, config))
                return g->stats_available;
        return 0;
}

static void
rules_pressure(const VtPlanningRiskGuest *g, const VtBalloonConfig *config, VtPlanningRiskResult *r)
{
        if (g->interval_s > 0 && g->oom_kills_before >= 0 && g->oom_kills > g->oom_kills_before)
                finding_add(r, VT_PLANNING_RISK_OOM_KILLS, VT_PLANNING_RISK_CRITICAL,
                            (double)(g->oom_kills - g->oom_kills_before), 0,
                            "%" G_GINT64_FORMAT " OOM kill(s) in the last %.1f s",
                            g->oom_kills - g->oom_kills_before, g->interval_s);
        else if (g->oom_kills > 0)
                finding_add(
                    r, VT_PLANNING_RISK_OOM_KILLS, VT_PLANNING_RISK_WARNING, (double)g->oom_kills,
                    0, "%" G_GINT64_FORMAT " OOM kill(s) since the guest booted", g->oom_kills);
        if (!agent_fresh(g, config))
                return;
        if (isfinite(g->psi_full) && g->psi_full >= config->psi_critical)
                finding_add(r, VT_PLANNING_RISK_PSI_FULL, VT_PLANNING_RISK_CRITICAL, g->psi_full,
                            config->psi_critical, "PSI full %.2f %% >= %.2f %%", g->psi_full,
                            config->psi_critical);
        if (isfinite(g->psi_some) && g->psi_some >= config->guest_pressure_psi)
                finding_add(r, VT_PLANNING_RISK_PSI_SOME, VT_PLANNING_RISK_HIGH, g->psi_some,
                            config->guest_pressure_psi, "PSI some %.2f %% >= %.2f %%", g->psi_some,
                            config->guest_pressure_psi);
}

static void
rules_rates(const VtPlanningRiskGuest *g, const VtBalloonConfig *config, guint64 page_size,
            VtPlanningRiskResult *r)
{
        double swap_line = config->swap_in_tight * (double)page_size;
        double swap = counter_rate(g->swap_in_before, g->swap_in, g->interval_s);
        double faults = counter_rate(g->major_faults_before, g->major_faults, g->interval_s);

        if (swap >= 0 && swap >= swap_line && swap_line > 0)
                finding_add(r, VT_PLANNING_RISK_SWAP_IN, VT_PLANNING_RISK_HIGH, swap, swap_line,
                            "swapping in %s/s >= %s/s (over %.1f s)",
                            VT_SIZE_STR(swap, VT_SIZE_STYLE_TABLE),
                            VT_SIZE_STR(swap_line, VT_SIZE_STYLE_TABLE), g->interval_s);
        if (faults >= VT_PLANNING_RISK_MAJOR_FAULTS_PER_S)
                finding_add(r, VT_PLANNING_RISK_MAJOR_FAULTS, VT_PLANNING_RISK_WARNING, faults,
                            VT_PLANNING_RISK_MAJOR_FAULTS_PER_S,
                            "%.0f major faults/s >= %.0f (over %.1f s)", faults,
                            VT_PLANNING_RISK_MAJOR_FAULTS_PER_S, g->interval_s);
}

static void
rules_balloon(const VtPlanningRiskGuest *g, const VtBalloonConfig *config, VtPlanningRiskResult *r)
{
        VtBalloonGuest guest = {.name = g->name, .max_bytes = g->max_bytes};
        VtBalloonGuestConfig gc = {.min_bytes = g->min_bytes, .max_bytes = g->max_config_bytes};
        VtBalloonLimits limits;
        guint64 available = guest_available(g, config);
        double headroom, low;
        gboolean pushing;

        vt_balloon_limits_get(&guest, &gc, config, &limits);
        headroom = MAX(config->guest_headroom_fraction * (double)limits.max_bytes,
                       (double)config->guest_headroom_min);
        low = config->guest_low_fraction * (double)g->actual_bytes;
        if (available > 0 && (double)available < headroom)
                finding_add(r, VT_PLANNING_RISK_AVAILABLE_LOW,
                            (double)available < low ? VT_PLANNING_RISK_HIGH
                                                    : VT_PLANNING_RISK_WARNING,
                            (double)available, headroom, "MemAvailable %s < headroom %s%s",
                            VT_SIZE_STR(available, VT_SIZE_STYLE_TABLE),
                            VT_SIZE_STR(headroom, VT_SIZE_STYLE_TABLE),
                            (double)available < low ? " (under 5 % of its size)" : "");
        pushing = g->pushes > 0 || (available > 0 && (double)available < headroom) ||
                  (agent_fresh(g, config) && isfinite(g->psi_some) &&
                   g->psi_some >= config->guest_pressure_psi);
        if (g->has_balloon && pushing &&
            g->actual_bytes <= limits.min_bytes + VT_PLANNING_RISK_AT_MIN_SLACK)
                finding_add(r, VT_PLANNING_RISK_AT_MINIMUM, VT_PLANNING_RISK_HIGH,
                            (double)g->actual_bytes, (double)limits.min_bytes,
                            "balloon at its minimum %s while under pressure%s",
                            VT_SIZE_STR(limits.min_bytes, VT_SIZE_STYLE_TABLE),
                            g->pushes > 0 ? " (the agent pushed)" : "");
        if (g->stuck)
                finding_add(r, VT_PLANNING_RISK_BALLOON_STUCK, VT_PLANNING_RISK_WARNING,
                            (double)g->actual_bytes, 0, "balloon stuck at %s",
                            VT_SIZE_STR(g->actual_bytes, VT_SIZE_STYLE_TABLE));
}

static void
rules_sight(const VtPlanningRiskGuest *g, const VtBalloonConfig *config, VtPlanningRiskResult *r)
{
        gboolean agent_ok = agent_fresh(g, config);
        double stale_s = (double)config->stale_us / G_USEC_PER_SEC;

        if (g->has_balloon && !stats_fresh(g, config)) {
                VtPlanningRiskSeverity severity =
                    agent_ok ? VT_PLANNING_RISK_INFO : VT_PLANNING_RISK_WARNING;

                if (g->has_stats)
                        finding_add(r, VT_PLANNING_RISK_STATS_STALE, severity,
                                    (double)g->stats_age_us / G_USEC_PER_SEC, stale_s,
                                    "balloon stats %.0f s old > %.0f s%s",
                                    (double)g->stats_age_us / G_USEC_PER_SEC, stale_s,
                                    agent_ok ? "" : ", and no agent: the policy is blind");
                else
                        finding_add(r, VT_PLANNING_RISK_STATS_STALE, severity, -1, stale_s,
                                    "no balloon stats%s",
                                    agent_ok ? "" : ", and no agent: the policy is blind");
        }
        if (!agent_ok)
                finding_add(r, VT_PLANNING_RISK_AGENT_MISSING, VT_PLANNING_RISK_INFO,
                            g->has_agent ? (double)g->agent_age_us / G_USEC_PER_SEC : -1, stale_s,
                            "%s",
                            !g->has_agent         ? "no agent: no PSI, no pressure pushes"
                            : !g->agent_connected ? "agent not connected"
                                                  : "agent's report stale");
        if (!g->reachable)
                finding_add(r, VT_PLANNING_RISK_UNREACHABLE, VT_PLANNING_RISK_INFO, 0, 0,
                            "its backend cannot drive it now");
}

static int
finding_compare(const void *a, const void *b)
{
        const VtPlanningRiskFinding *x = a, *y = b;

        if (x->severity != y->severity)
                return x->severity > y->severity ? -1 : 1;
        return (int)x->rule - (int)y->rule;
}

static int
result_compare(const void *a, const void *b)
{
        const VtPlanningRiskResult *x = a, *y = b;

        if (x->score != y->score)
                return x->score > y->score ? -1 : 1;
        return g_strcmp0(x->name, y->name);
}

/**
 * vt_planning_risk_assess:
 * @guests: (array length=n_guests): the guests now
 * @n_guests: how many
 * @config: the balloon tunables in force (the thresholds)
 * @page_size: bytes per page (for swap_in_tight, in pages)
 *
 * Runs every rule over every running guest (theory of operation above).
 *
 * Returns: (transfer full): the guests at risk, ranked
 */
VtPlanningRisk *
vt_planning_risk_assess(const VtPlanningRiskGuest *guests, guint n_guests,
                        const VtBalloonConfig *config, guint64 page_size)
{
        VtPlanningRisk *risk;

        g_return_val_if_fail(n_guests == 0 || guests != NULL, NULL);
        g_return_val_if_fail(config != NULL, NULL);

        risk = g_new0(VtPlanningRisk, 1);
        risk->guests = g_new0(VtPlanningRiskResult, MAX(n_guests, 1));
        for (guint i = 0; i < n_guests; i++) {
                const VtPlanningRiskGuest *g = &guests[i];
                VtPlanningRiskResult *r = &risk->guests[risk->n_guests];

                if (!g->running)
                        continue;
                risk->n_checked++;
                r->name = g->name;
                rules_pressure(g, config, r);
                rules_rates(g, config, page_size > 0 ? page_size : 4096, r);
                rules_balloon(g, config, r);
                rules_sight(g, config, r);
                if (r->n_findings == 0)
                        continue;
                qsort(r->findings, r->n_findings, sizeof(r->findings[0]), finding_compare);
                risk->n_guests++;
        }
        qsort(risk->guests, risk->n_guests, sizeof(risk->guests[0]), result_compare);
        return risk;
}

/**
 * vt_planning_risk_free:
 * @risk: (nullable): an assessment
 */
void
vt_planning_risk_free(VtPlanningRisk *risk)
{
        if (risk == NULL)
                return;
        for (guint i = 0; i < risk->n_guests; i++) {
                for (guint j = 0; j < risk->guests[i].n_findings; j++)
                        g_free(risk->guests[i].findings[j].detail);
        }
        g_free(risk->guests);
        g_free(risk);
}
