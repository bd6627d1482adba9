/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtided's scrape (docs/metrics.md): every family, from what the daemon
 * holds, read with the getters query-guests and query-status use. A value
 * the daemon does not know (no agent, no statistics yet) is left out
 * rather than written as 0, so a dashboard shows a gap, not a lie.
 */
#include <math.h>

#include "host/daemon-metrics-private.h"

/* A guest's value, if known. */
typedef gboolean (*GuestValueFunc)(VtDaemonGuest *dg, double *ret_value);

typedef struct {
        const char *name;
        VtMetricsType type;
        const char *help;
        GuestValueFunc value;
} GuestFamily;

static const VtAgentReport *
guest_report(VtDaemonGuest *dg)
{
        VtAgentReader *reader = vt_guest_get_agent(dg->guest);
        const VtAgentReport *r = reader != NULL ? vt_agent_reader_get_report(reader) : NULL;

        return r != NULL && r->mem_total > 0 ? r : NULL;
}

static gboolean
guest_actual(VtDaemonGuest *dg, double *ret_value)
{
        *ret_value = (double)vt_guest_get_actual_bytes(dg->guest);
        return TRUE;
}

static gboolean
guest_target(VtDaemonGuest *dg, double *ret_value)
{
        *ret_value = (double)vt_guest_get_target_bytes(dg->guest);
        return *ret_value > 0;
}

static gboolean
guest_maximum(VtDaemonGuest *dg, double *ret_value)
{
        *ret_value = (double)vt_guest_get_max_bytes(dg->guest);
        return TRUE;
}

/* The agent's MemAvailable, else the balloon statistics'. */
static gboolean
guest_available(VtDaemonGuest *dg, double *ret_value)
{
        const VtAgentReport *r = guest_report(dg);
        const VtGuestStats *s = vt_guest_get_stats(dg->guest);

        if (r != NULL && (r->fields & VT_AGENT_HAS_AVAILABLE))
                *ret_value = (double)r->mem_available;
        else if (s != NULL && s->updated_us > 0 && s->available > 0)
                *ret_value = (double)s->available;
        else
                return FALSE;
        return TRUE;
}

static gboolean
guest_psi_some(VtDaemonGuest *dg, double *ret_value)
{
        const VtAgentReport *r = guest_report(dg);

        *ret_value = r != NULL ? r->psi_some.avg10 / 100.0 : NAN;
        return r != NULL && (r->fields & VT_AGENT_HAS_PSI_SOME) && *ret_value >= 0;
}

static gboolean
guest_psi_full(VtDaemonGuest *dg, double *ret_value)
{
        const VtAgentReport *r = guest_report(dg);

        *ret_value = r != NULL ? r->psi_full.avg10 / 100.0 : NAN;
        return r != NULL && (r->fields & VT_AGENT_HAS_PSI_FULL) && *ret_value >= 0;
}

static gboolean
guest_oom_kills(VtDaemonGuest *dg, double *ret_value)
{
        const VtAgentReport *r = guest_report(dg);

        *ret_value = r != NULL ? (double)r->oom_kill : 0;
        return r != NULL && (r->fields & VT_AGENT_HAS_OOM_KILL);
}

static gboolean
guest_ksm_profit(VtDaemonGuest *dg, double *ret_value)
{
        *ret_value = (double)dg->ksm_profit;
        return dg->ksm_profit >= 0;
}

static gboolean
guest_ksm_merging(VtDaemonGuest *dg, double *ret_value)
{
        *ret_value = (double)dg->ksm_merging_pages;
        return dg->ksm_merging_pages >= 0;
}

static gboolean
guest_stuck_now(VtDaemonGuest *dg, double *ret_value)
{
        *ret_value = vt_guest_is_stuck(dg->guest) ? 1 : 0;
        return TRUE;
}

static gboolean
guest_held(VtDaemonGuest *dg, double *ret_value)
{
        *ret_value = dg->manual ? 1 : 0;
        return TRUE;
}

static const GuestFamily guest_families[] = {
    {"vmtide_guest_actual_bytes", VT_METRICS_GAUGE,
     "The guest's memory as its balloon leaves it (QEMU's 'actual').", guest_actual},
    {"vmtide_guest_target_bytes", VT_METRICS_GAUGE, "The balloon target last asked for.",
     guest_target},
    {"vmtide_guest_maximum_bytes", VT_METRICS_GAUGE, "The guest's memory with no balloon.",
     guest_maximum},
    {"vmtide_guest_available_bytes", VT_METRICS_GAUGE,
     "MemAvailable inside the guest (agent, else balloon statistics).", guest_available},
    {"vmtide_guest_psi_some_ratio", VT_METRICS_GAUGE,
     "Share of time some tasks in the guest stalled on memory, avg10 (agent).", guest_psi_some},
    {"vmtide_guest_psi_full_ratio", VT_METRICS_GAUGE,
     "Share of time all tasks in the guest stalled on memory, avg10 (agent).", guest_psi_full},
    {"vmtide_guest_oom_kills_total", VT_METRICS_COUNTER,
     "OOM kills inside the guest since it booted (agent, vmstat oom_kill).", guest_oom_kills},
    {"vmtide_guest_ksm_profit_bytes", VT_METRICS_GAUGE,
     "What KSM saves on the guest's QEMU process (ksm_stat general_profit).", guest_ksm_profit},
    {"vmtide_guest_ksm_merging_pages", VT_METRICS_GAUGE,
     "The guest's pages merged by KSM (ksm_stat ksm_merging_pages).", guest_ksm_merging},
    {"vmtide_guest_balloon_stuck", VT_METRICS_GAUGE,
     "1 while the guest's balloon is stuck short of its target and left alone.", guest_stuck_now},
    {"vmtide_guest_held", VT_METRICS_GAUGE, "1 while the guest is held by hand (setmem).",
     guest_held},
};

static void
write_guest_family(VtMetricsWriter *w, GPtrArray *guests, const GuestFamily *f)
{
        vt_metrics_writer_family(w, f->name, f->type, f->help);
        for (guint i = 0; i < guests->len; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(guests, i);
                const char *const labels[] = {"guest", dg->name, NULL};
                double value = 0;

                if (f->value(dg, &value))
                        vt_metrics_writer_sample(w, labels, value);
        }
}

/* The counters this file keeps per guest, for the guests in the table. */
static void
write_guest_counts(VtMetricsWriter *w, VtDaemonMetrics *m, GPtrArray *guests)
{
        vt_metrics_writer_family(w, "vmtide_guest_pressure_pushes_total", VT_METRICS_COUNTER,
                                 "Memory pressure pushes from the guest's agent.");
        for (guint i = 0; i < guests->len; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(guests, i);
                const GuestCounts *c = vt_daemon_metrics_guest_counts(m, dg->name);
                const char *const labels[] = {"guest", dg->name, NULL};

                vt_metrics_writer_sample(w, labels, c != NULL ? (double)c->pushes : 0);
        }
        vt_metrics_writer_family(w, "vmtide_guest_balloon_moves_total", VT_METRICS_COUNTER,
                                 "Balloon targets asked for, by direction (give: deflate).");
        for (guint i = 0; i < guests->len; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(guests, i);
                const GuestCounts *c = vt_daemon_metrics_guest_counts(m, dg->name);
                const char *const give[] = {"guest", dg->name, "direction", "give", NULL};
                const char *const reclaim[] = {"guest", dg->name, "direction", "reclaim", NULL};

                vt_metrics_writer_sample(w, give, c != NULL ? (double)c->gives : 0);
                vt_metrics_writer_sample(w, reclaim, c != NULL ? (double)c->reclaims : 0);
        }
        vt_metrics_writer_family(w, "vmtide_guest_balloon_stuck_total", VT_METRICS_COUNTER,
                                 "Times the guest's balloon stopped short of its target.");
        for (guint i = 0; i < guests->len; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(guests, i);
                const GuestCounts *c = vt_daemon_metrics_guest_counts(m, dg->name);
                const char *const labels[] = {"guest", dg->name, NULL};

                vt_metrics_writer_sample(w, labels, c != NULL ? (double)c->stuck : 0);
        }
}

static void
write_host(VtMetricsWriter *w, VtDaemon *daemon)
{
        const VtHostSample *hs = &daemon->host_sample;
        const VtBalloonHost *bh = &daemon->balloon_host;

        vt_metrics_writer_family(w, "vmtide_host_state", VT_METRICS_GAUGE,
                                 "The host's memory state: 1 for the current one.");
        for (guint s = 0; s < VT_HOST_STATE_MAX; s++) {
                const char *const labels[] = {"state", vt_host_state_to_string(s), NULL};

                vt_metrics_writer_sample(w, labels, s == daemon->host_state ? 1 : 0);
        }
        if (!daemon->has_host_sample)
                return;
        vt_metrics_writer_family(w, "vmtide_host_memory_bytes", VT_METRICS_GAUGE,
                                 "The host's memory (MemTotal).");
        vt_metrics_writer_sample(w, NULL, (double)hs->mem_total);
        vt_metrics_writer_family(w, "vmtide_host_available_bytes", VT_METRICS_GAUGE,
                                 "The host's MemAvailable.");
        vt_metrics_writer_sample(w, NULL, (double)hs->mem_available);
        vt_metrics_writer_family(w, "vmtide_host_guest_free_bytes", VT_METRICS_GAUGE,
                                 "Memory free for guests after the reserve (negative: short).");
        vt_metrics_writer_sample(w, NULL, (double)daemon->host_free);
        vt_metrics_writer_family(w, "vmtide_host_reserve_bytes", VT_METRICS_GAUGE,
                                 "Memory kept for the host ([budget] reserve).");
        vt_metrics_writer_sample(w, NULL, (double)daemon->balloon_config.host_reserve);
        vt_metrics_writer_family(w, "vmtide_host_budget_bytes", VT_METRICS_GAUGE,
                                 "Memory the guests may use in all ([budget]; absent: none).");
        if (bh->budget_limit > 0)
                vt_metrics_writer_sample(w, NULL, (double)bh->budget_limit);
        vt_metrics_writer_family(w, "vmtide_host_psi_ratio", VT_METRICS_GAUGE,
                                 "Share of time tasks on the host stalled on memory, avg10.");
        if (hs->has_psi) {
                const char *const some[] = {"kind", "some", NULL};
                const char *const full[] = {"kind", "full", NULL};

                vt_metrics_writer_sample(w, some, hs->psi_some_avg10 / 100.0);
                vt_metrics_writer_sample(w, full, hs->psi_full_avg10 / 100.0);
        }
}

static void
write_ksm(VtMetricsWriter *w, VtDaemon *daemon)
{
        const VtKsmDecision *d;
        const VtKsmSample *s;
        const char *const tuner[] = {"tuner", daemon->config->ksm_tuner_name, NULL};
        double cpu;

        vt_metrics_writer_family(w, "vmtide_ksm_managed", VT_METRICS_GAUGE,
                                 "1 when vmtided manages KSM.");
        vt_metrics_writer_sample(w, NULL, daemon->ksm != NULL ? 1 : 0);
        if (daemon->ksm == NULL)
                return;
        s = vt_ksm_step_get_sample(daemon->ksm);
        d = vt_ksm_step_get_decision(daemon->ksm);
        vt_metrics_writer_family(w, "vmtide_ksm_tuner_info", VT_METRICS_GAUGE,
                                 "The KSM tuner in use ([ksm] tuner).");
        vt_metrics_writer_sample(w, tuner, 1);
        vt_metrics_writer_family(w, "vmtide_ksm_saving_bytes", VT_METRICS_GAUGE,
                                 "Memory KSM saves (pages_sharing times the page size).");
        vt_metrics_writer_sample(
            w, NULL, (double)(s->pages_sharing * vt_ksm_step_get_page_size(daemon->ksm)));
        vt_metrics_writer_family(w, "vmtide_ksm_pages_sharing", VT_METRICS_GAUGE,
                                 "Pages deduplicated into shared ones (pages_sharing).");
        vt_metrics_writer_sample(w, NULL, (double)s->pages_sharing);
        vt_metrics_writer_family(w, "vmtide_ksm_pages_shared", VT_METRICS_GAUGE,
                                 "Shared pages in use (pages_shared).");
        vt_metrics_writer_sample(w, NULL, (double)s->pages_shared);
        vt_metrics_writer_family(w, "vmtide_ksmd_cpu_ratio", VT_METRICS_GAUGE,
                                 "Share of one CPU ksmd used over the last interval.");
        cpu = vt_ksm_step_get_cpu_share(daemon->ksm);
        if (cpu >= 0)
                vt_metrics_writer_sample(w, NULL, cpu);
        vt_metrics_writer_family(w, "vmtide_ksm_run", VT_METRICS_GAUGE,
                                 "KSM's run knob as the tuner set it (0 off, 1 on, 2 unmerge).");
        vt_metrics_writer_sample(w, NULL, d != NULL ? d->run : s->run);
        vt_metrics_writer_family(w, "vmtide_ksm_pages_to_scan", VT_METRICS_GAUGE,
                                 "Pages ksmd scans per wake-up (pages_to_scan).");
        vt_metrics_writer_sample(w, NULL,
                                 (double)(d != NULL ? d->pages_to_scan : s->pages_to_scan));
        vt_metrics_writer_family(w, "vmtide_ksm_sleep_seconds", VT_METRICS_GAUGE,
                                 "ksmd's sleep between wake-ups (sleep_millisecs).");
        vt_metrics_writer_sample(
            w, NULL, (double)(d != NULL ? d->sleep_millisecs : s->sleep_millisecs) / 1000.0);
}

static void
write_daemon(VtMetricsWriter *w, VtDaemon *daemon, VtDaemonMetrics *m)
{
        const char *const info[] = {
            "version", VT_VERSION, "backend",
            daemon->backend != NULL ? vt_backend_get_name(daemon->backend) : "none", NULL};
        GHashTableIter iter;
        gpointer key, value;

        vt_metrics_writer_family(w, "vmtide_build_info", VT_METRICS_GAUGE,
                                 "vmtided's version and guest backend; always 1.");
        vt_metrics_writer_sample(w, info, 1);
        vt_metrics_writer_family(w, "vmtide_paused", VT_METRICS_GAUGE,
                                 "1 while automation is paused (vmtide pause).");
        vt_metrics_writer_sample(w, NULL, daemon->paused ? 1 : 0);
        vt_metrics_writer_family(w, "vmtide_guests", VT_METRICS_GAUGE, "Guests vmtided knows.");
        vt_metrics_writer_sample(w, NULL, g_hash_table_size(daemon->guests));
        vt_metrics_writer_family(w, "vmtide_ticks_total", VT_METRICS_COUNTER,
                                 "Control loop ticks run.");
        vt_metrics_writer_sample(w, NULL, (double)daemon->n_ticks);
        vt_metrics_writer_family(w, "vmtide_tick_duration_seconds", VT_METRICS_HISTOGRAM,
                                 "Time a tick took: sampling, deciding, asking.");
        vt_metrics_writer_histogram(w, NULL, vt_daemon_metrics_tick_bounds, m->tick_counts,
                                    VT_DAEMON_METRICS_N_TICK_BOUNDS, m->tick_sum_s);
        vt_metrics_writer_family(w, "vmtide_decisions_total", VT_METRICS_COUNTER,
                                 "Actions taken and logged, by action.");
        g_hash_table_iter_init(&iter, m->actions);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                const char *const labels[] = {"action", key, NULL};

                vt_metrics_writer_sample(w, labels, (double)*(guint64 *)value);
        }
}

/**
 * vt_daemon_metrics_collect:
 * @writer: the exposition
 * @user_data: the daemon
 *
 * Writes every family (a VtMetricsCollectFunc).
 */
void
vt_daemon_metrics_collect(VtMetricsWriter *writer, gpointer user_data)
{
        VtDaemon *daemon = user_data;
        g_autoptr(GPtrArray) guests = vt_daemon_sorted_guests(daemon);

        vt_daemon_metrics_prune(daemon);
        for (guint i = 0; i < G_N_ELEMENTS(guest_families); i++)
                write_guest_family(writer, guests, &guest_families[i]);
        write_guest_counts(writer, daemon->metrics, guests);
        write_host(writer, daemon);
        write_ksm(writer, daemon);
        write_daemon(writer, daemon, daemon->metrics);
}
