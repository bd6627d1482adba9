/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtide doctor's rule engine. Theory of operation: the sampler (not
 * here) reads the host twice some seconds apart, KSM's counters, and
 * what the daemon knows of each guest, and hands them over as one
 * VtDoctorInput. vt_doctor_run() derives the rates once (swap, PSI,
 * KSM), runs every rule of the table in order, and sorts what they
 * found from the most severe down (then in table order, then by
 * subject). Each rule is a function that reads the context and adds
 * zero or more findings; a rule whose figures are missing stays silent.
 * Pure: no I/O, no clock, no logging; the rules, their thresholds and
 * their sources are in docs/doctor.md.
 */
#include "host/doctor/doctor-rules-private.h"

#include <string.h>

typedef void (*VtDoctorRuleFunc)(VtDoctorContext *ctx);

/* The rules, in the order they run (and docs/doctor.md describes them). */
static const VtDoctorRule rule_table[] = {
    {"host-compression-thrashing",
     "the host's zram or zswap pool is at its limit, or swap-in tracks swap-out with PSI rising"},
    {"guest-compression-thrashing", "the same inside a guest, from its agent's figures"},
    {"zram-poor-ratio", "a zram device saves little: poor ratio or many incompressible pages"},
    {"ksmd-cpu-high", "ksmd spends CPU for little new saving"},
    {"ksm-not-paying", "KSM tracks more than 64 pages per merged page: metadata eats the saving"},
    {"ksm-merges-nothing", "KSM merges nothing, and why"},
    {"ksm-other-writer", "another program (ksmtuned) drives KSM's knobs"},
    {"fragmentation",
     "free memory is fragmented: extfrag index over threshold, compaction failing, THP "
     "falling back"},
    {"balloon-stats-off", "a guest's balloon statistics are off or come too rarely"},
    {"guest-no-agent", "a guest without vmtide-agent"},
    {"balloon-stuck", "a guest's balloon stopped moving toward its target"},
    {"balloon-floor-pressure", "a guest at its balloon floor is under memory pressure"},
    {"free-page-reporting-off", "free page reporting is off while the host is short of memory"},
    {"memory-tiers", "memory tiers or several NUMA nodes, and where guests sit (report)"},
};

/* The rules in rule_table's order. */
static const VtDoctorRuleFunc rule_funcs[] = {
    vt_doctor_rule_host_thrashing, vt_doctor_rule_guest_thrashing, vt_doctor_rule_zram_ratio,
    vt_doctor_rule_ksmd_cpu,       vt_doctor_rule_ksm_not_paying,  vt_doctor_rule_ksm_idle,
    vt_doctor_rule_ksm_writer,     vt_doctor_rule_fragmentation,   vt_doctor_rule_stats_off,
    vt_doctor_rule_no_agent,       vt_doctor_rule_balloon_stuck,   vt_doctor_rule_floor_pressure,
    vt_doctor_rule_fpr_off,        vt_doctor_rule_tiers,
};

G_STATIC_ASSERT(G_N_ELEMENTS(rule_table) == G_N_ELEMENTS(rule_funcs));

static const char *const severity_names[VT_DOCTOR_SEVERITY_MAX] = {
    [VT_DOCTOR_SEVERITY_INFO] = "info",
    [VT_DOCTOR_SEVERITY_ADVICE] = "advice",
    [VT_DOCTOR_SEVERITY_WARNING] = "warning",
    [VT_DOCTOR_SEVERITY_CRITICAL] = "critical",
};

/**
 * vt_doctor_severity_to_string:
 * @severity: a severity
 *
 * Returns: its name ("critical", "warning", "advice", "info"), or "?"
 */
const char *
vt_doctor_severity_to_string(VtDoctorSeverity severity)
{
        if ((guint)severity >= VT_DOCTOR_SEVERITY_MAX)
                return "?";
        return severity_names[severity];
}

/**
 * vt_doctor_rules_get:
 * @ret_n: (out): the number of rules
 *
 * Returns: (transfer none) (array length=ret_n): the rules, in the order
 *     they run
 */
const VtDoctorRule *
vt_doctor_rules_get(guint *ret_n)
{
        g_return_val_if_fail(ret_n != NULL, NULL);
        *ret_n = G_N_ELEMENTS(rule_table);
        return rule_table;
}

/**
 * vt_doctor_finding_free:
 * @finding: (nullable): a finding
 */
void
vt_doctor_finding_free(VtDoctorFinding *finding)
{
        if (finding == NULL)
                return;
        g_free(finding->subject);
        g_free(finding->title);
        g_free(finding->figures);
        g_free(finding->advice);
        g_free(finding);
}

/**
 * vt_doctor_add:
 * @ctx: the context
 * @severity: the finding's severity
 * @subject: "host" or a guest's name
 * @title: (transfer full): what is wrong
 * @figures: (transfer full): the figures judged
 * @advice: (transfer full): what to do
 *
 * Adds a finding of the running rule.
 */
void
vt_doctor_add(VtDoctorContext *ctx, VtDoctorSeverity severity, const char *subject, char *title,
              char *figures, char *advice)
{
        VtDoctorFinding *f = g_new0(VtDoctorFinding, 1);

        f->severity = severity;
        f->rule = rule_table[ctx->rule_index].id;
        f->rule_index = ctx->rule_index;
        f->subject = g_strdup(subject != NULL ? subject : "?");
        f->title = title;
        f->figures = figures;
        f->advice = advice;
        g_ptr_array_add(ctx->findings, f);
}

/**
 * vt_doctor_mm_delta:
 * @ctx: the context
 * @cur: a counter in the current mm sample
 * @prev: the same in the previous one
 * @ret_delta: (out): @cur - @prev
 *
 * Returns: %FALSE without two mm samples or when the counter went back
 */
gboolean
vt_doctor_mm_delta(const VtDoctorContext *ctx, guint64 cur, guint64 prev, guint64 *ret_delta)
{
        if (ctx->mm_interval_s <= 0.0 || cur < prev)
                return FALSE;
        *ret_delta = cur - prev;
        return TRUE;
}

/**
 * vt_doctor_mm_rate:
 * @ctx: the context
 * @cur: a counter in the current mm sample
 * @prev: the same in the previous one
 * @ret_per_s: (out): its change a second
 *
 * Returns: %FALSE without two mm samples or when the counter went back
 */
gboolean
vt_doctor_mm_rate(const VtDoctorContext *ctx, guint64 cur, guint64 prev, double *ret_per_s)
{
        guint64 delta;

        if (!vt_doctor_mm_delta(ctx, cur, prev, &delta))
                return FALSE;
        *ret_per_s = (double)delta / ctx->mm_interval_s;
        return TRUE;
}

/**
 * vt_doctor_host_tight:
 * @ctx: the context
 *
 * Returns: whether the host's MemAvailable is below %VT_DOCTOR_HOST_TIGHT
 *     of MemTotal
 */
gboolean
vt_doctor_host_tight(const VtDoctorContext *ctx)
{
        const VtHostSample *h = ctx->in->host;

        return h->mem_total > 0 &&
               (double)h->mem_available < VT_DOCTOR_HOST_TIGHT * (double)h->mem_total;
}

/**
 * vt_doctor_figure_add:
 * @figures: the figures so far
 * @format: one more figure, "name value"
 * @...: its arguments
 *
 * Appends a figure, "; " after the one before.
 */
void
vt_doctor_figure_add(GString *figures, const char *format, ...)
{
        va_list args;

        if (figures->len > 0)
                g_string_append(figures, "; ");
        va_start(args, format);
        g_string_append_vprintf(figures, format, args);
        va_end(args);
}

/* Swap rates from the mm samples, else from the host samples. */
static void
derive_swap(VtDoctorContext *ctx)
{
        const VtDoctorInput *in = ctx->in;
        const VtHostSample *h = in->host, *hp = in->host_prev;

        if (ctx->mm_interval_s > 0.0 && in->mm->has_pswp && in->mm_prev->has_pswp) {
                ctx->has_swap_rates = vt_doctor_mm_rate(ctx, in->mm->pswpin, in->mm_prev->pswpin,
                                                        &ctx->swap_in_per_s) &&
                                      vt_doctor_mm_rate(ctx, in->mm->pswpout, in->mm_prev->pswpout,
                                                        &ctx->swap_out_per_s);
        } else if (hp != NULL && h->has_vmstat && hp->has_vmstat &&
                   h->sampled_us > hp->sampled_us && h->pswpin >= hp->pswpin &&
                   h->pswpout >= hp->pswpout) {
                double dt = (double)(h->sampled_us - hp->sampled_us) / G_USEC_PER_SEC;

                ctx->has_swap_rates = TRUE;
                ctx->swap_in_per_s = (double)(h->pswpin - hp->pswpin) / dt;
                ctx->swap_out_per_s = (double)(h->pswpout - hp->pswpout) / dt;
        }
}

/* PSI "some": avg10, or the share of the interval stalled when larger. */
static void
derive_psi(VtDoctorContext *ctx)
{
        const VtHostSample *h = ctx->in->host, *hp = ctx->in->host_prev;

        ctx->psi_some = h->has_psi ? h->psi_some_avg10 : -1.0;
        if (h->has_psi && hp != NULL && hp->has_psi && h->sampled_us > hp->sampled_us &&
            h->psi_some_total_us >= hp->psi_some_total_us) {
                double share = 100.0 * (double)(h->psi_some_total_us - hp->psi_some_total_us) /
                               (double)(h->sampled_us - hp->sampled_us);

                ctx->psi_some = MAX(ctx->psi_some, share);
        }
}

static void
derive_ksm(VtDoctorContext *ctx)
{
        const VtDoctorInput *in = ctx->in;

        ctx->ksmd_cpu_share = in->ksmd_cpu_share;
        if (in->ksm != NULL && in->ksm_prev != NULL)
                ctx->has_ksm_rates =
                    vt_ksm_rates_compute(in->ksm_prev, in->ksm, ctx->page_size, &ctx->ksm_rates);
        if (ctx->ksmd_cpu_share < 0.0 && ctx->has_ksm_rates)
                ctx->ksmd_cpu_share = ctx->ksm_rates.ksmd_cpu_share;
}

static gint
compare_findings(gconstpointer a, gconstpointer b)
{
        const VtDoctorFinding *x = *(VtDoctorFinding *const *)a;
        const VtDoctorFinding *y = *(VtDoctorFinding *const *)b;

        if (x->severity != y->severity)
                return x->severity > y->severity ? -1 : 1;
        if (x->rule_index != y->rule_index)
                return x->rule_index < y->rule_index ? -1 : 1;
        return strcmp(x->subject, y->subject);
}

/**
 * vt_doctor_run:
 * @input: what the sampler read; @input->host is required
 *
 * Runs every rule. Pure: the same input gives the same findings.
 *
 * Returns: (transfer full) (element-type VtDoctorFinding): the findings,
 *     most severe first (then in the rules' order, then by subject);
 *     empty when nothing fired. The array frees its elements.
 */
GPtrArray *
vt_doctor_run(const VtDoctorInput *input)
{
        VtDoctorContext ctx = {0};

        g_return_val_if_fail(input != NULL && input->host != NULL, NULL);
        g_return_val_if_fail(input->n_guests == 0 || input->guests != NULL, NULL);

        ctx.in = input;
        ctx.findings = g_ptr_array_new_with_free_func((GDestroyNotify)vt_doctor_finding_free);
        ctx.page_size = input->page_size > 0 ? input->page_size : 4096;
        if (input->mm != NULL && input->mm_prev != NULL &&
            input->mm->sampled_us > input->mm_prev->sampled_us)
                ctx.mm_interval_s =
                    (double)(input->mm->sampled_us - input->mm_prev->sampled_us) / G_USEC_PER_SEC;
        derive_swap(&ctx);
        derive_psi(&ctx);
        derive_ksm(&ctx);
        for (guint i = 0; i < G_N_ELEMENTS(rule_funcs); i++) {
                ctx.rule_index = i;
                rule_funcs[i](&ctx);
        }
        g_ptr_array_sort(ctx.findings, compare_findings);
        return ctx.findings;
}
