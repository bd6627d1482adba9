/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The doctor's rules on KSM: ksmd spending CPU for little new saving,
 * processes whose KSM metadata costs more than their merged pages save,
 * KSM merging nothing (and the likely reasons), and another program
 * (ksmtuned, ksm.service) writing KSM's knobs beside vmtided.
 */
#include "host/doctor/doctor-rules-private.h"

#include <string.h>

/* rmap_items worth judging a process on: 1 MiB of rmap_items (64 bytes each). */
#define KSM_RMAP_MIN 16384

/**
 * vt_doctor_rule_ksmd_cpu:
 * @ctx: the context
 *
 * ksmd-cpu-high: ksmd above %VT_DOCTOR_KSMD_CPU_HIGH of a CPU while a
 * CPU-second of it saves less than %VT_DOCTOR_KSM_MIN_YIELD new bytes.
 * Needs two KSM samples.
 */
void
vt_doctor_rule_ksmd_cpu(VtDoctorContext *ctx)
{
        const VtKsmSample *k = ctx->in->ksm;
        g_autoptr(GString) figures = NULL;
        double share = ctx->ksmd_cpu_share, yield;

        if (k == NULL || !ctx->has_ksm_rates || share < VT_DOCTOR_KSMD_CPU_HIGH)
                return;
        yield = ctx->ksm_rates.saved_per_s / share;
        if (yield >= VT_DOCTOR_KSM_MIN_YIELD)
                return;
        figures = g_string_new(NULL);
        vt_doctor_figure_add(figures, "ksmd CPU %.0f %% of one CPU", 100.0 * share);
        vt_doctor_figure_add(figures, "newly saved %s/s", DOCTOR_SIZE(ctx->ksm_rates.saved_per_s));
        vt_doctor_figure_add(figures, "yield %s per CPU-second (low below %s)", DOCTOR_SIZE(yield),
                             DOCTOR_SIZE(VT_DOCTOR_KSM_MIN_YIELD));
        vt_doctor_figure_add(figures, "saved %s (pages_sharing %" G_GUINT64_FORMAT ")",
                             DOCTOR_SIZE(ctx->ksm_rates.saved_bytes), k->pages_sharing);
        if (k->has_general_profit)
                vt_doctor_figure_add(figures, "general_profit %s",
                                     DOCTOR_SIZE((double)k->general_profit));
        vt_doctor_figure_add(
            figures, "pages_to_scan %" G_GUINT64_FORMAT "; sleep_millisecs %" G_GUINT64_FORMAT,
            k->pages_to_scan, k->sleep_millisecs);
        vt_doctor_add(ctx, VT_DOCTOR_SEVERITY_WARNING, "host",
                      g_strdup("ksmd spends CPU for little new saving"),
                      g_string_free(g_steal_pointer(&figures), FALSE),
                      g_strdup("Slow ksmd down: lower pages_to_scan or raise sleep_millisecs "
                               "(vmtide's tuner backs off by itself: [ksm] tuner = vmtide), or "
                               "raise advisor_target_scan_time under the scan-time advisor"));
}

/**
 * vt_doctor_rule_ksm_not_paying:
 * @ctx: the context
 *
 * ksm-not-paying: a guest's QEMU whose `ksm_rmap_items` exceed
 * %VT_DOCTOR_KSM_RMAP_RATIO per merged page (`ksm_merging_pages`), with
 * at least 1 MiB of rmap_items: each rmap_item costs 64 bytes, a merged
 * 4 KiB page saves at most 4096, so past 64 items per merged page KSM
 * costs more than it saves (Documentation/admin-guide/mm/ksm.rst,
 * "Monitoring KSM profit").
 */
void
vt_doctor_rule_ksm_not_paying(VtDoctorContext *ctx)
{
        for (guint i = 0; i < ctx->in->n_guests; i++) {
                const VtDoctorGuest *g = &ctx->in->guests[i];
                double ratio;

                if (!g->has_ksm_stat || g->ksm_rmap_items < KSM_RMAP_MIN)
                        continue;
                ratio = g->ksm_merging_pages > 0
                            ? (double)g->ksm_rmap_items / (double)g->ksm_merging_pages
                            : (double)g->ksm_rmap_items;
                if (ratio <= VT_DOCTOR_KSM_RMAP_RATIO)
                        continue;
                vt_doctor_add(
                    ctx, VT_DOCTOR_SEVERITY_WARNING, g->name,
                    g_strdup("KSM's metadata for this guest costs more than it saves"),
                    g_strdup_printf(
                        "ksm_rmap_items %" G_GUINT64_FORMAT "; ksm_merging_pages %" G_GUINT64_FORMAT
                        "; %.0f items per merged page (loses above %.0f)",
                        g->ksm_rmap_items, g->ksm_merging_pages, ratio, VT_DOCTOR_KSM_RMAP_RATIO),
                    g_strdup("Its memory does not repeat: opt it out of KSM (its policy's "
                             "ksm = off, or QEMU's mem-merge=off) so ksmd stops scanning it"));
        }
}

/* Guests whose RAM is offered to KSM (mem-merge not off, not opted out). */
static guint
count_mergeable(const VtDoctorInput *in)
{
        guint n = 0;

        for (guint i = 0; i < in->n_guests; i++)
                if (in->guests[i].mem_merge != VT_DOCTOR_NO && !in->guests[i].ksm_opt_out)
                        n++;
        return n;
}

/* Why KSM merges nothing, as "; "-joined reasons (empty when none is known). */
static GString *
idle_reasons(const VtDoctorContext *ctx)
{
        const VtKsmSample *k = ctx->in->ksm;
        GString *why = g_string_new(NULL);
        guint mergeable = count_mergeable(ctx->in);

        if (k->run == 0)
                vt_doctor_figure_add(why, "KSM is stopped (run=0)");
        if (ctx->in->n_guests == 0)
                vt_doctor_figure_add(why, "no guests");
        else if (mergeable == 0)
                vt_doctor_figure_add(why,
                                     "no mergeable guests (mem-merge off or opted out in all "
                                     "%u)",
                                     ctx->in->n_guests);
        if (ctx->in->mm != NULL && strcmp(ctx->in->mm->frag.thp_enabled, "always") == 0)
                vt_doctor_figure_add(why, "THP is 'always': guest RAM sits in 2 MiB pages that "
                                          "KSM must split before it merges");
        if (k->run == 1 && k->pages_volatile > k->pages_unshared && k->pages_volatile > 0)
                vt_doctor_figure_add(why,
                                     "most scanned pages change too fast (pages_volatile "
                                     "%" G_GUINT64_FORMAT ")",
                                     k->pages_volatile);
        return why;
}

/**
 * vt_doctor_rule_ksm_idle:
 * @ctx: the context
 *
 * ksm-merges-nothing: pages_sharing is 0 while ksmd runs (after its
 * first full scan: a warning, it spends CPU for nothing) or while it is
 * stopped and the host is short of memory (advice); the finding says why.
 */
void
vt_doctor_rule_ksm_idle(VtDoctorContext *ctx)
{
        const VtKsmSample *k = ctx->in->ksm;
        g_autoptr(GString) why = NULL;
        VtDoctorSeverity severity;

        if (k == NULL || k->pages_sharing > 0)
                return;
        if (k->run == 1 && k->full_scans > 0)
                severity = VT_DOCTOR_SEVERITY_WARNING;
        else if (k->run == 0 && vt_doctor_host_tight(ctx))
                severity = VT_DOCTOR_SEVERITY_ADVICE;
        else
                return;
        why = idle_reasons(ctx);
        if (why->len == 0)
                g_string_append(why, "no reason found: the guests' memory does not repeat");
        vt_doctor_add(
            ctx, severity, "host", g_strdup("KSM merges nothing"),
            g_strdup_printf("run %u; pages_sharing 0; full_scans %" G_GUINT64_FORMAT
                            "; mergeable guests %u of %u; why: %s",
                            k->run, k->full_scans, count_mergeable(ctx->in), ctx->in->n_guests,
                            why->str),
            g_strdup("Fix the first reason: start KSM (vmtide's tuner starts it when memory is "
                     "short), set THP to madvise, leave mem-merge on for guests that share "
                     "an image; stop ksmd where nothing repeats"));
}

/**
 * vt_doctor_rule_ksm_writer:
 * @ctx: the context
 *
 * ksm-other-writer: the sampler found another program writing KSM's
 * knobs (ksmtuned, ksm.service).
 */
void
vt_doctor_rule_ksm_writer(VtDoctorContext *ctx)
{
        const char *name = ctx->in->other_ksm_writer_name;

        if (!ctx->in->other_ksm_writer)
                return;
        vt_doctor_add(
            ctx, VT_DOCTOR_SEVERITY_WARNING, "host",
            g_strdup_printf("another program drives KSM: %s", name != NULL ? name : "unknown"),
            g_strdup_printf("writer %s", name != NULL ? name : "unknown"),
            g_strdup("Stop and disable it (systemctl disable --now ksmtuned ksm): two "
                     "controllers overwrite each other's run and pages_to_scan"));
}
