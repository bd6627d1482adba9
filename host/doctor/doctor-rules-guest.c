/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The doctor's rules on each guest's plumbing: balloon statistics, the
 * agent, a balloon that stopped moving or sits at its floor under
 * pressure, and free page reporting. These are what leaves the balloon
 * policy blind or without room to act.
 */
#include "host/doctor/doctor-rules-private.h"

/**
 * vt_doctor_rule_stats_off:
 * @ctx: the context
 *
 * balloon-stats-off: a guest with a balloon whose statistics are off
 * (period 0: a warning, the policy sees only what the agent says) or
 * come less often than every %VT_DOCTOR_STATS_PERIOD_LONG seconds
 * (advice).
 */
void
vt_doctor_rule_stats_off(VtDoctorContext *ctx)
{
        for (guint i = 0; i < ctx->in->n_guests; i++) {
                const VtDoctorGuest *g = &ctx->in->guests[i];
                gboolean off = g->stats_period_s == 0;

                if (!g->has_balloon || (!off && g->stats_period_s <= VT_DOCTOR_STATS_PERIOD_LONG))
                        continue;
                vt_doctor_add(
                    ctx, off ? VT_DOCTOR_SEVERITY_WARNING : VT_DOCTOR_SEVERITY_ADVICE, g->name,
                    g_strdup(off ? "balloon statistics are off"
                                 : "balloon statistics come too rarely"),
                    g_strdup_printf("stats period %d s (long above %d s); statistics %s",
                                    g->stats_period_s, VT_DOCTOR_STATS_PERIOD_LONG,
                                    g->has_stats ? "received" : "never received"),
                    g_strdup("Set a period of 2 to 5 s: libvirt <memballoon><stats "
                             "period='2'/></memballoon> (virsh dommemstat --period 2 --live), "
                             "or QMP qom-set guest-stats-polling-interval"));
        }
}

/**
 * vt_doctor_rule_no_agent:
 * @ctx: the context
 *
 * guest-no-agent: a guest from which vmtide-agent does not report
 * (advice: decisions then rest on the balloon's statistics alone, no
 * pressure pushes, no PSI, no compressed-memory figures).
 */
void
vt_doctor_rule_no_agent(VtDoctorContext *ctx)
{
        for (guint i = 0; i < ctx->in->n_guests; i++) {
                const VtDoctorGuest *g = &ctx->in->guests[i];

                if (g->has_agent)
                        continue;
                vt_doctor_add(ctx, VT_DOCTOR_SEVERITY_ADVICE, g->name,
                              g_strdup("no vmtide-agent reports from this guest"),
                              g_strdup_printf("agent none; balloon statistics %s",
                                              g->has_stats ? "yes" : "no"),
                              g_strdup("Install vmtide-agent in the guest and give it the port "
                                       "org.vmtide.agent.0 (docs/agent.md): without it vmtide "
                                       "sees no pressure push, no PSI, no zram figures"));
        }
}

/**
 * vt_doctor_rule_balloon_stuck:
 * @ctx: the context
 *
 * balloon-stuck: the guest's last balloon move stopped short of its
 * target.
 */
void
vt_doctor_rule_balloon_stuck(VtDoctorContext *ctx)
{
        for (guint i = 0; i < ctx->in->n_guests; i++) {
                const VtDoctorGuest *g = &ctx->in->guests[i];

                if (!g->balloon_stuck)
                        continue;
                vt_doctor_add(ctx, VT_DOCTOR_SEVERITY_WARNING, g->name,
                              g_strdup("the balloon stopped moving toward its target"),
                              g_strdup_printf("balloon stuck; under pressure %s",
                                              g->under_pressure ? "yes" : "no"),
                              g_strdup("The guest cannot give more (its kernel holds the pages, "
                                       "or the balloon driver is not loaded): check "
                                       "virtio_balloon in the guest, and raise its floor to "
                                       "what it gave"));
        }
}

/**
 * vt_doctor_rule_floor_pressure:
 * @ctx: the context
 *
 * balloon-floor-pressure: a guest held at its minimum guarantee reports
 * memory pressure: the floor is too low for its work.
 */
void
vt_doctor_rule_floor_pressure(VtDoctorContext *ctx)
{
        for (guint i = 0; i < ctx->in->n_guests; i++) {
                const VtDoctorGuest *g = &ctx->in->guests[i];

                if (!g->at_floor || !g->under_pressure)
                        continue;
                vt_doctor_add(ctx, VT_DOCTOR_SEVERITY_WARNING, g->name,
                              g_strdup("at its balloon floor and under memory pressure"),
                              g_strdup("balloon at floor; under pressure yes"),
                              g_strdup("Raise its minimum guarantee (min in its policy), or move "
                                       "it to a host with room: vmtide will not take more and "
                                       "cannot give more while the host is short"));
        }
}

/**
 * vt_doctor_rule_fpr_off:
 * @ctx: the context
 *
 * free-page-reporting-off: a guest with a balloon and free page reporting
 * known to be off while the host's MemAvailable is below
 * %VT_DOCTOR_HOST_TIGHT of MemTotal (report: memory the guest frees would
 * go back to the host without a balloon move).
 */
void
vt_doctor_rule_fpr_off(VtDoctorContext *ctx)
{
        const VtHostSample *h = ctx->in->host;

        if (!vt_doctor_host_tight(ctx))
                return;
        for (guint i = 0; i < ctx->in->n_guests; i++) {
                const VtDoctorGuest *g = &ctx->in->guests[i];

                if (!g->has_balloon || g->free_page_reporting != VT_DOCTOR_NO)
                        continue;
                vt_doctor_add(ctx, VT_DOCTOR_SEVERITY_INFO, g->name,
                              g_strdup("free page reporting is off while the host is short"),
                              g_strdup_printf("host available %s of %s (short below %.0f %%)",
                                              DOCTOR_SIZE(h->mem_available),
                                              DOCTOR_SIZE(h->mem_total),
                                              100.0 * VT_DOCTOR_HOST_TIGHT),
                              g_strdup("Turn it on (QEMU virtio-balloon-pci,free-page-reporting="
                                       "on; libvirt <memballoon freePageReporting='on'>; guest "
                                       "Linux 5.7+): pages the guest frees return to the host"));
        }
}
