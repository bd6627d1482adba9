/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inside the doctor: the context every rule reads, and the rules themselves. */
#pragma once

#include "common/vt-size.h"
#include "host/doctor/doctor-rules.h"

G_BEGIN_DECLS

/* Sizes in findings: one decimal from 1 KiB up ("2.1 GiB"). */
#define DOCTOR_SIZE(bytes) VT_SIZE_STR((bytes), VT_SIZE_STYLE_DECIMAL)

/**
 * VtDoctorContext:
 * @in: the input
 * @findings: the findings so far (element-type VtDoctorFinding)
 * @rule_index: the rule running now
 * @page_size: bytes per page
 * @mm_interval_s: seconds between @in->mm_prev and @in->mm; 0 without
 *     both (no rates)
 * @has_swap_rates: @swap_in_per_s and @swap_out_per_s were measured
 * @swap_in_per_s: pages swapped in a second (pswpin)
 * @swap_out_per_s: pages swapped out a second (pswpout)
 * @psi_some: memory PSI "some", percent: the larger of avg10 and the
 *     share of the interval stalled; -1 unknown
 * @has_ksm_rates: @ksm_rates were computed from two KSM samples
 * @ksm_rates: KSM's rates
 * @ksmd_cpu_share: ksmd's CPU share, the caller's or computed; -1 unknown
 *
 * What the rules share: the input and the rates derived once from it.
 */
typedef struct {
        const VtDoctorInput *in;
        GPtrArray *findings;
        guint rule_index;
        guint64 page_size;
        double mm_interval_s;
        gboolean has_swap_rates;
        double swap_in_per_s;
        double swap_out_per_s;
        double psi_some;
        gboolean has_ksm_rates;
        VtKsmRates ksm_rates;
        double ksmd_cpu_share;
} VtDoctorContext;

void vt_doctor_add(VtDoctorContext *ctx, VtDoctorSeverity severity, const char *subject,
                   char *title, char *figures, char *advice);
gboolean vt_doctor_mm_rate(const VtDoctorContext *ctx, guint64 cur, guint64 prev,
                           double *ret_per_s);
gboolean vt_doctor_mm_delta(const VtDoctorContext *ctx, guint64 cur, guint64 prev,
                            guint64 *ret_delta);
gboolean vt_doctor_host_tight(const VtDoctorContext *ctx);
void vt_doctor_figure_add(GString *figures, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Rules (doctor-rules-compress.c). */
void vt_doctor_rule_host_thrashing(VtDoctorContext *ctx);
void vt_doctor_rule_guest_thrashing(VtDoctorContext *ctx);
void vt_doctor_rule_zram_ratio(VtDoctorContext *ctx);
/* Rules (doctor-rules-ksm.c). */
void vt_doctor_rule_ksmd_cpu(VtDoctorContext *ctx);
void vt_doctor_rule_ksm_not_paying(VtDoctorContext *ctx);
void vt_doctor_rule_ksm_idle(VtDoctorContext *ctx);
void vt_doctor_rule_ksm_writer(VtDoctorContext *ctx);
/* Rules (doctor-rules-host.c). */
void vt_doctor_rule_fragmentation(VtDoctorContext *ctx);
void vt_doctor_rule_tiers(VtDoctorContext *ctx);
/* Rules (doctor-rules-guest.c). */
void vt_doctor_rule_stats_off(VtDoctorContext *ctx);
void vt_doctor_rule_no_agent(VtDoctorContext *ctx);
void vt_doctor_rule_balloon_stuck(VtDoctorContext *ctx);
void vt_doctor_rule_floor_pressure(VtDoctorContext *ctx);
void vt_doctor_rule_fpr_off(VtDoctorContext *ctx);

G_END_DECLS
