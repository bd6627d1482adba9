/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide risk`: the guests at risk now, ranked, each with the rule that fired and its figures. */
#include <math.h>
#include <stdio.h>

#include "cli/cli-commands.h"
#include "cli/cli-planning.h"
#include "host/planning/planning-risk.h"
#include "host/planning/planning-series.h"
#include "host/recorder/recorder-writer.h"
#include "vt-autocleanups.h"

/* Pressure pushes counted from the history over this much of its end. */
#define RISK_PUSH_WINDOW_US (60 * G_USEC_PER_SEC)
/* The longest --interval. */
#define RISK_INTERVAL_MAX_S 60.0

static double
json_percent(json_object *object, const char *path)
{
        double value = NAN;

        return vt_cli_json_get_double(object, path, &value) ? value : NAN;
}

/* The counters of @g's second sample, or of its first into the _before fields. */
static void
risk_counters(json_object *g, VtPlanningRiskGuest *r, gboolean before)
{
        gint64 oom = vt_cli_json_get_int_or(g, "agent.oom_kill", -1);
        gint64 faults = vt_cli_json_get_int_or(g, "agent.pgmajfault", -1);
        gint64 swap = vt_cli_json_get_int_or(g, "stats.swap_in", -1);

        if (faults < 0)
                faults = vt_cli_json_get_int_or(g, "stats.major_faults", -1);
        if (before) {
                r->oom_kills_before = oom;
                r->major_faults_before = faults;
                r->swap_in_before = swap;
        } else {
                r->oom_kills = oom;
                r->major_faults = faults;
                r->swap_in = swap;
        }
}

static void
risk_guest(json_object *g, VtPlanningRiskGuest *r)
{
        json_object *agent = vt_cli_json_get(g, "agent");
        gboolean reachable = TRUE;

        r->name = vt_cli_or_dash(vt_cli_json_get_string(g, "name"));
        r->running = g_strcmp0(vt_cli_json_get_string(g, "state"), "running") == 0;
        vt_cli_json_get_bool(g, "has_balloon", &r->has_balloon);
        vt_cli_json_get_bool(g, "stuck", &r->stuck);
        vt_cli_json_get_bool(g, "reachable", &reachable);
        r->reachable = reachable;
        /* In the policy's currency: virtio-mem counted when driven. */
        r->max_bytes = vt_cli_guest_ceiling(g);
        r->actual_bytes = vt_cli_json_get_size_or(g, vt_cli_guest_memory(g), 0);
        r->min_bytes = vt_cli_json_get_size_or(g, "policy.min", 0);
        r->max_config_bytes = vt_cli_json_get_size_or(g, "policy.max", 0);
        r->has_stats = json_object_is_type(vt_cli_json_get(g, "stats"), json_type_object);
        r->stats_age_us = vt_cli_json_get_int_or(g, "stats.age_ms", 0) * 1000;
        r->stats_available = vt_cli_json_get_size_or(g, "stats.available", 0);
        r->has_agent = json_object_is_type(agent, json_type_object) &&
                       vt_cli_json_get(agent, "age_ms") != NULL;
        vt_cli_json_get_bool(agent, "connected", &r->agent_connected);
        r->agent_age_us = vt_cli_json_get_int_or(agent, "age_ms", 0) * 1000;
        r->agent_available = vt_cli_json_get_size_or(agent, "mem_available", 0);
        r->psi_some = json_percent(agent, "psi_some_avg10");
        r->psi_full = json_percent(agent, "psi_full_avg10");
        r->oom_kills_before = r->major_faults_before = r->swap_in_before = -1;
        risk_counters(g, r, FALSE);
}

/* The first sample's counters, matched by name. */
static void
risk_match_before(json_object *first, VtPlanningRiskGuest *guests, guint n, double interval_s)
{
        for (size_t i = 0;
             json_object_is_type(first, json_type_array) && i < json_object_array_length(first);
             i++) {
                json_object *g = json_object_array_get_idx(first, i);
                const char *name = vt_cli_json_get_string(g, "name");

                for (guint j = 0; j < n && name != NULL; j++) {
                        if (!g_str_equal(guests[j].name, name))
                                continue;
                        risk_counters(g, &guests[j], TRUE);
                        guests[j].interval_s = interval_s;
                }
        }
}

static json_object *
risk_to_json(const VtPlanningRisk *risk, const char *rates, const char *thresholds)
{
        json_object *o = json_object_new_object();
        json_object *list = json_object_new_array();
        guint n_rules;
        const VtPlanningRiskRuleInfo *rules = vt_planning_risk_rules(&n_rules);

        json_object_object_add(o, "checked", json_object_new_int64(risk->n_checked));
        json_object_object_add(o, "rates_from", json_object_new_string(rates));
        json_object_object_add(o, "thresholds_from", json_object_new_string(thresholds));
        for (guint i = 0; i < risk->n_guests; i++) {
                const VtPlanningRiskResult *r = &risk->guests[i];
                json_object *g = json_object_new_object();
                json_object *findings = json_object_new_array();

                json_object_object_add(g, "rank", json_object_new_int64(i + 1));
                json_object_object_add(g, "name", json_object_new_string(r->name));
                json_object_object_add(g, "score", json_object_new_int64(r->score));
                json_object_object_add(
                    g, "worst",
                    json_object_new_string(vt_planning_risk_severity_to_string(r->worst)));
                for (guint j = 0; j < r->n_findings; j++) {
                        const VtPlanningRiskFinding *f = &r->findings[j];
                        json_object *fo = json_object_new_object();

                        json_object_object_add(fo, "rule",
                                               json_object_new_string(rules[f->rule].id));
                        json_object_object_add(
                            fo, "severity",
                            json_object_new_string(
                                vt_planning_risk_severity_to_string(f->severity)));
                        json_object_object_add(fo, "value", json_object_new_double(f->value));
                        json_object_object_add(fo, "threshold",
                                               json_object_new_double(f->threshold));
                        json_object_object_add(fo, "source",
                                               json_object_new_string(rules[f->rule].source));
                        json_object_object_add(fo, "detail", json_object_new_string(f->detail));
                        json_object_array_add(findings, fo);
                }
                json_object_object_add(g, "findings", findings);
                json_object_array_add(list, g);
        }
        json_object_object_add(o, "guests", list);
        return o;
}

static void
risk_print(const VtPlanningRisk *risk, const char *rates, const char *thresholds)
{
        g_autoptr(VtCliTable) fields = vt_cli_table_new_fields();
        g_autoptr(VtCliTable) table = vt_cli_table_new();
        guint n_rules;
        const VtPlanningRiskRuleInfo *rules = vt_planning_risk_rules(&n_rules);

        vt_cli_table_add_field(
            fields, "At risk:",
            g_strdup_printf("%u of %u running guests", risk->n_guests, risk->n_checked));
        vt_cli_table_add_field(fields, "Rates:", g_strdup(rates));
        vt_cli_table_add_field(fields, "Thresholds:", g_strdup(thresholds));
        vt_cli_print_table(fields);
        if (risk->n_guests == 0)
                return;
        vt_cli_table_add_column(table, "RANK", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "GUEST", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "SEVERITY", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "RULE", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "FIGURES", VT_CLI_ALIGN_LEFT);
        for (guint i = 0; i < risk->n_guests; i++) {
                const VtPlanningRiskResult *r = &risk->guests[i];

                for (guint j = 0; j < r->n_findings; j++) {
                        const VtPlanningRiskFinding *f = &r->findings[j];

                        vt_cli_table_take_cell(table, j == 0 ? g_strdup_printf("%u", i + 1)
                                                             : g_strdup(""));
                        vt_cli_table_add_cell(table, j == 0 ? r->name : "");
                        vt_cli_table_add_cell(table,
                                              vt_planning_risk_severity_to_string(f->severity));
                        vt_cli_table_add_cell(table, rules[f->rule].id);
                        vt_cli_table_add_cell(table, f->detail);
                }
        }
        printf("\n");
        vt_cli_print_table(table);
}

/* Pushes lately and the tunables in force, from the history's end. */
static void
risk_read_history(VtCliHistory *history, const char *dir, VtPlanningRiskGuest *guests, guint n,
                  VtBalloonConfig *ret_config, char **ret_thresholds)
{
        vt_cli_history_read(history, dir, g_get_real_time() - RISK_PUSH_WINDOW_US);
        vt_balloon_config_init(ret_config);
        if (history->history == NULL || !history->history->has_policy) {
                *ret_thresholds =
                    g_strdup_printf("the balloon policy's defaults (%s)", history->note);
                return;
        }
        *ret_config = history->history->config;
        *ret_thresholds =
            g_strdup_printf("the balloon policy in force ('%s', recorded at %s)",
                            vt_cli_or_dash(history->history->policy_name), history->path);
        for (guint i = 0; i < n; i++) {
                const VtPlanningHistoryGuest *hg =
                    vt_planning_history_get_guest(history->history, guests[i].name);

                guests[i].pushes = hg != NULL ? hg->n_pushes : 0;
        }
}

/**
 * vt_cli_risk:
 * @cli: the invocation
 * @argc: arguments, `risk` first
 * @argv: (array length=argc): the arguments
 *
 * Ranks the guests at risk from two query-guests --interval apart (the
 * rates) and the history's last minute (pushes, the tunables in force).
 *
 * Returns: the exit status
 */
int
vt_cli_risk(VtCli *cli, int argc, char **argv)
{
        double interval_s = 2.0;
        g_autofree char *history_dir = NULL;
        const GOptionEntry entries[] = {
            {"interval", 'i', 0, G_OPTION_ARG_DOUBLE, &interval_s,
             "Seconds between the two samples the rates come from (default: 2; 0: one sample, "
             "no rates)",
             "SECONDS"},
            {"history", 0, 0, G_OPTION_ARG_FILENAME, &history_dir,
             "The history directory (default: " VT_RECORDER_DIR_DEFAULT ")", "DIR"},
            G_OPTION_ENTRY_NULL,
        };
        g_autoptr(json_object) first = NULL;
        g_autoptr(json_object) second = NULL;
        g_autoptr(VtPlanningRisk) risk = NULL;
        g_autofree VtPlanningRiskGuest *guests = NULL;
        g_autofree char *rates = NULL;
        g_autofree char *thresholds = NULL;
        g_auto(VtCliHistory) history = {0};
        VtBalloonConfig config;
        json_object *list;
        gint64 started_us;
        guint n = 0;
        int status;

        if (!vt_cli_parse_args(cli, entries, &argc, &argv, 0, 0))
                return VT_CLI_EXIT_USAGE;
        if (!(interval_s >= 0 && interval_s <= RISK_INTERVAL_MAX_S))
                return vt_cli_usage_error(cli, "--interval: seconds, 0 to %.0f",
                                          RISK_INTERVAL_MAX_S);
        started_us = g_get_monotonic_time();
        if (interval_s > 0) {
                first = vt_cli_planning_query(cli, VT_CONTROL_COMMAND_QUERY_GUESTS, &status);
                if (first == NULL)
                        return status;
                g_usleep((gulong)(interval_s * G_USEC_PER_SEC));
        }
        second = vt_cli_planning_query(cli, VT_CONTROL_COMMAND_QUERY_GUESTS, &status);
        if (second == NULL)
                return status;
        interval_s = (double)(g_get_monotonic_time() - started_us) / G_USEC_PER_SEC;
        list = vt_cli_json_get(second, "guests");
        n = json_object_is_type(list, json_type_array) ? (guint)json_object_array_length(list) : 0;
        guests = g_new0(VtPlanningRiskGuest, MAX(n, 1));
        for (guint i = 0; i < n; i++)
                risk_guest(json_object_array_get_idx(list, i), &guests[i]);
        if (first != NULL) {
                risk_match_before(vt_cli_json_get(first, "guests"), guests, n, interval_s);
                rates = g_strdup_printf("over %.1f s, between two query-guests (the history "
                                        "records no per-guest counters)",
                                        interval_s);
        } else {
                rates = g_strdup("none: one sample (--interval 0); OOM kills since boot only");
        }
        risk_read_history(&history, history_dir != NULL ? history_dir : VT_RECORDER_DIR_DEFAULT,
                          guests, n, &config, &thresholds);
        risk = vt_planning_risk_assess(guests, n, &config, vt_cli_page_size());
        if (cli->json) {
                g_autoptr(json_object) out = risk_to_json(risk, rates, thresholds);

                vt_cli_print_json(out);
        } else {
                risk_print(risk, rates, thresholds);
        }
        return VT_CLI_EXIT_OK;
}
