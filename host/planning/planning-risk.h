/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guests at risk now: documented rules over a snapshot, ranked. Pure. */
#pragma once

#include <glib.h>

#include "balloon/balloon-policy.h"

G_BEGIN_DECLS

/* Major faults a second at or above which a guest is paging its working
 * set back in (planning's own: the balloon policy has no such line). 100
 * a second is 400 KiB/s read from disk or swap in 4 KiB pages, far above
 * an idle Linux guest's handful. */
#define VT_PLANNING_RISK_MAJOR_FAULTS_PER_S 100.0
/* A balloon within this of its minimum is at it (VT_GUEST_CONFIRM_SLACK). */
#define VT_PLANNING_RISK_AT_MIN_SLACK (G_GUINT64_CONSTANT(4) << 20)

/**
 * VtPlanningRiskRule:
 * @VT_PLANNING_RISK_OOM_KILLS: the guest's kernel killed processes for
 *     memory (agent `vm.oom_kill`)
 * @VT_PLANNING_RISK_PSI_FULL: every task stalled on memory (agent PSI full
 *     avg10)
 * @VT_PLANNING_RISK_PSI_SOME: some task stalled on memory (agent PSI some)
 * @VT_PLANNING_RISK_SWAP_IN: the guest swaps in (balloon stats `swap_in`,
 *     a rate between two samples)
 * @VT_PLANNING_RISK_MAJOR_FAULTS: the guest takes major faults (agent
 *     `pgmajfault`, else balloon stats; a rate between two samples)
 * @VT_PLANNING_RISK_AVAILABLE_LOW: MemAvailable under the headroom the
 *     policy keeps for it
 * @VT_PLANNING_RISK_AT_MINIMUM: its balloon is at its minimum while the
 *     guest is under pressure: the policy cannot help from here
 * @VT_PLANNING_RISK_BALLOON_STUCK: the balloon did not move when asked
 * @VT_PLANNING_RISK_STATS_STALE: balloon statistics missing or stale
 * @VT_PLANNING_RISK_AGENT_MISSING: no agent, or its reports are stale
 * @VT_PLANNING_RISK_UNREACHABLE: the backend cannot drive the guest now
 *
 * The rules; each one's source and threshold are in
 * vt_planning_risk_rules() and docs/planning-capacity.md.
 */
typedef enum {
        VT_PLANNING_RISK_OOM_KILLS,
        VT_PLANNING_RISK_PSI_FULL,
        VT_PLANNING_RISK_PSI_SOME,
        VT_PLANNING_RISK_SWAP_IN,
        VT_PLANNING_RISK_MAJOR_FAULTS,
        VT_PLANNING_RISK_AVAILABLE_LOW,
        VT_PLANNING_RISK_AT_MINIMUM,
        VT_PLANNING_RISK_BALLOON_STUCK,
        VT_PLANNING_RISK_STATS_STALE,
        VT_PLANNING_RISK_AGENT_MISSING,
        VT_PLANNING_RISK_UNREACHABLE,
        VT_PLANNING_RISK_MAX,
} VtPlanningRiskRule;

/**
 * VtPlanningRiskSeverity:
 * @VT_PLANNING_RISK_INFO: the daemon sees less than it should
 * @VT_PLANNING_RISK_WARNING: heading for trouble
 * @VT_PLANNING_RISK_HIGH: in trouble: stalls, paging
 * @VT_PLANNING_RISK_CRITICAL: processes are dying or all of it stalls
 *
 * Ordered: a larger value is worse. Ranking weighs a finding 1, 10, 100
 * or 1000 by severity.
 */
typedef enum {
        VT_PLANNING_RISK_INFO,
        VT_PLANNING_RISK_WARNING,
        VT_PLANNING_RISK_HIGH,
        VT_PLANNING_RISK_CRITICAL,
        VT_PLANNING_RISK_SEVERITY_MAX,
} VtPlanningRiskSeverity;

/**
 * VtPlanningRiskRuleInfo:
 * @rule: which
 * @id: its name in output (`psi-full`)
 * @severity: how bad when it fires
 * @source: where its figure comes from
 * @threshold: when it fires, in words (naming the tunable)
 *
 * One rule, documented.
 */
typedef struct {
        VtPlanningRiskRule rule;
        const char *id;
        VtPlanningRiskSeverity severity;
        const char *source;
        const char *threshold;
} VtPlanningRiskRuleInfo;

/**
 * VtPlanningRiskGuest:
 * @name: the guest (borrowed)
 * @running: it runs (not starting, not gone)
 * @has_balloon: it has a balloon device
 * @stuck: its balloon did not move when last asked
 * @reachable: its backend can drive it
 * @max_bytes: its boot memory
 * @actual_bytes: its balloon now
 * @min_bytes: its configured minimum (0: the default fraction)
 * @max_config_bytes: its configured maximum (0: the boot memory)
 * @has_stats: balloon statistics were reported
 * @stats_age_us: their age
 * @stats_available: their MemAvailable (0: not reported)
 * @has_agent: an agent report was received
 * @agent_connected: the agent's port is connected
 * @agent_age_us: its latest report's age
 * @agent_available: its MemAvailable (0: not reported)
 * @psi_some: its PSI some avg10, percent (negative or NaN: unknown)
 * @psi_full: its PSI full avg10, as above
 * @oom_kills: its kernel's OOM kills since boot (-1: unknown)
 * @oom_kills_before: the same at the first sample (-1: unknown)
 * @major_faults: major faults since boot (-1: unknown)
 * @major_faults_before: the same at the first sample (-1: unknown)
 * @swap_in: bytes swapped in since boot (-1: unknown)
 * @swap_in_before: the same at the first sample (-1: unknown)
 * @interval_s: seconds between the two samples (0: one sample, no rates)
 * @pushes: the agent's pressure pushes recorded lately (history; 0: none
 *     or not known)
 *
 * One guest, as query-guests reports it, with counters from two samples.
 */
typedef struct {
        const char *name;
        gboolean running;
        gboolean has_balloon;
        gboolean stuck;
        gboolean reachable;
        guint64 max_bytes;
        guint64 actual_bytes;
        guint64 min_bytes;
        guint64 max_config_bytes;
        gboolean has_stats;
        gint64 stats_age_us;
        guint64 stats_available;
        gboolean has_agent;
        gboolean agent_connected;
        gint64 agent_age_us;
        guint64 agent_available;
        double psi_some;
        double psi_full;
        gint64 oom_kills;
        gint64 oom_kills_before;
        gint64 major_faults;
        gint64 major_faults_before;
        gint64 swap_in;
        gint64 swap_in_before;
        double interval_s;
        guint pushes;
} VtPlanningRiskGuest;

/**
 * VtPlanningRiskFinding:
 * @rule: the rule that fired
 * @severity: how bad
 * @value: its figure (a percentage, a rate, bytes, a count)
 * @threshold: the line it crossed, in the same unit
 * @detail: (not nullable): in words, with the figures
 */
typedef struct {
        VtPlanningRiskRule rule;
        VtPlanningRiskSeverity severity;
        double value;
        double threshold;
        char *detail;
} VtPlanningRiskFinding;

/**
 * VtPlanningRiskResult:
 * @name: the guest (borrowed from the input)
 * @score: its findings weighed by severity: the rank
 * @worst: its worst finding's severity
 * @n_findings: how many rules fired
 * @findings: (array length=n_findings): those, worst first
 */
typedef struct {
        const char *name;
        guint score;
        VtPlanningRiskSeverity worst;
        guint n_findings;
        VtPlanningRiskFinding findings[VT_PLANNING_RISK_MAX];
} VtPlanningRiskResult;

/**
 * VtPlanningRisk:
 * @n_checked: guests checked
 * @n_guests: guests at risk (at least one rule fired)
 * @guests: (array length=n_guests): those, most at risk first (by score,
 *     then by name)
 */
typedef struct {
        guint n_checked;
        guint n_guests;
        VtPlanningRiskResult *guests;
} VtPlanningRisk;

const VtPlanningRiskRuleInfo *vt_planning_risk_rules(guint *ret_n);
const char *vt_planning_risk_severity_to_string(VtPlanningRiskSeverity severity);

VtPlanningRisk *vt_planning_risk_assess(const VtPlanningRiskGuest *guests, guint n_guests,
                                        const VtBalloonConfig *config, guint64 page_size);
void vt_planning_risk_free(VtPlanningRisk *risk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtPlanningRisk, vt_planning_risk_free)

G_END_DECLS
