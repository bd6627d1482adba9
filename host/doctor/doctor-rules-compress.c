/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The doctor's rules on compressed memory: thrashing of the host's and
 * the guests' zram and zswap, and zram devices that save little. A
 * compressed pool thrashes when it is full (pages it cannot take go to
 * disk or are refused) or when what goes out comes straight back
 * (swap-in tracks swap-out), while tasks stall on memory (PSI): the CPU
 * then spends itself compressing and decompressing the same pages.
 */
#include "host/doctor/doctor-rules-private.h"

/* Swap-in tracks swap-out, both active. */
static gboolean
swap_tracking(double in_per_s, double out_per_s)
{
        return in_per_s >= VT_DOCTOR_SWAP_ACTIVE_PER_S &&
               in_per_s >= VT_DOCTOR_SWAP_TRACKING * out_per_s;
}

static gboolean
pool_full(guint64 used, guint64 limit)
{
        return limit > 0 && (double)used >= VT_DOCTOR_POOL_FULL * (double)limit;
}

/* The host's zram devices at their limit; TRUE if one is. */
static gboolean
host_zram_full(const VtHostMmSample *mm, GString *figures)
{
        gboolean full = FALSE;

        for (guint i = 0; i < mm->n_zram; i++) {
                const VtHostZram *z = &mm->zram[i];

                if (!z->is_swap || !z->has_mm_stat || !pool_full(z->mem_used_total, z->mem_limit))
                        continue;
                full = TRUE;
                vt_doctor_figure_add(figures, "%s used %s of its mem_limit %s", z->name,
                                     DOCTOR_SIZE(z->mem_used_total), DOCTOR_SIZE(z->mem_limit));
        }
        return full;
}

/* zswap refusing for a full pool, or its pool at max_pool_percent; TRUE if so. */
static gboolean
host_zswap_full(const VtDoctorContext *ctx, GString *figures)
{
        const VtHostZswap *z = &ctx->in->mm->zswap;
        guint64 hits = 0;
        gboolean full = FALSE;

        if (!z->present || !z->enabled)
                return FALSE;
        if (z->has_debugfs && ctx->in->mm_prev != NULL &&
            vt_doctor_mm_delta(ctx, z->pool_limit_hit, ctx->in->mm_prev->zswap.pool_limit_hit,
                               &hits) &&
            hits > 0) {
                full = TRUE;
                vt_doctor_figure_add(figures, "zswap pool_limit_hit +%" G_GUINT64_FORMAT, hits);
        }
        if (z->has_meminfo && z->max_pool_percent >= 0) {
                guint64 limit = ctx->in->host->mem_total / 100 * (guint64)z->max_pool_percent;

                if (pool_full(z->pool_bytes, limit)) {
                        full = TRUE;
                        vt_doctor_figure_add(figures, "zswap pool %s of its %d %% limit %s",
                                             DOCTOR_SIZE(z->pool_bytes), z->max_pool_percent,
                                             DOCTOR_SIZE(limit));
                }
        }
        return full;
}

/* Loads and stores of swap and zswap a second; FALSE without rates. */
static gboolean
host_swap_traffic(const VtDoctorContext *ctx, double *ret_in, double *ret_out, GString *figures)
{
        const VtHostMmSample *mm = ctx->in->mm, *prev = ctx->in->mm_prev;
        double in = ctx->swap_in_per_s, out = ctx->swap_out_per_s;
        double zin, zout, wb;
        gboolean has = ctx->has_swap_rates;

        if (mm != NULL && prev != NULL && mm->zswap.has_vmstat && prev->zswap.has_vmstat &&
            vt_doctor_mm_rate(ctx, mm->zswap.zswpin, prev->zswap.zswpin, &zin) &&
            vt_doctor_mm_rate(ctx, mm->zswap.zswpout, prev->zswap.zswpout, &zout)) {
                in = (has ? in : 0.0) + zin;
                out = (has ? out : 0.0) + zout;
                has = TRUE;
                if (zin + zout > 0.0)
                        vt_doctor_figure_add(figures, "zswpin %.0f/s; zswpout %.0f/s", zin, zout);
                if (mm->zswap.has_zswpwb && prev->zswap.has_zswpwb &&
                    vt_doctor_mm_rate(ctx, mm->zswap.zswpwb, prev->zswap.zswpwb, &wb) && wb > 0.0)
                        vt_doctor_figure_add(figures, "zswpwb %.0f/s", wb);
        }
        if (ctx->has_swap_rates)
                vt_doctor_figure_add(figures, "pswpin %.0f/s; pswpout %.0f/s", ctx->swap_in_per_s,
                                     ctx->swap_out_per_s);
        *ret_in = in;
        *ret_out = out;
        return has;
}

/**
 * vt_doctor_rule_host_thrashing:
 * @ctx: the context
 *
 * host-compression-thrashing: a pool at its limit (a zram swap device at
 * its mem_limit, zswap refusing stores for a full pool or at
 * max_pool_percent), or swap-in tracking swap-out; critical with PSI
 * rising, a warning for a full pool alone.
 */
void
vt_doctor_rule_host_thrashing(VtDoctorContext *ctx)
{
        g_autoptr(GString) figures = g_string_new(NULL);
        gboolean full = FALSE, tracking = FALSE, stalls = ctx->psi_some >= VT_DOCTOR_PSI_RISING;
        double in = 0.0, out = 0.0;
        VtDoctorSeverity severity;

        if (ctx->in->mm != NULL) {
                full = host_zram_full(ctx->in->mm, figures);
                full = host_zswap_full(ctx, figures) || full;
        }
        tracking = host_swap_traffic(ctx, &in, &out, figures) && swap_tracking(in, out);
        if (!full && !(tracking && stalls))
                return;
        severity = stalls ? VT_DOCTOR_SEVERITY_CRITICAL : VT_DOCTOR_SEVERITY_WARNING;
        if (ctx->psi_some >= 0.0)
                vt_doctor_figure_add(figures, "memory PSI some %.1f %%", ctx->psi_some);
        vt_doctor_add(
            ctx, severity, "host",
            g_strdup(full ? "the host's compressed swap is at its limit"
                          : "the host thrashes: pages swapped out come straight back"),
            g_string_free(g_steal_pointer(&figures), FALSE),
            g_strdup("Give the host memory back (reclaim from guests with the balloon, move a "
                     "guest away); raise zram's mem_limit or zswap's max_pool_percent only if "
                     "the data compresses well (see zram-poor-ratio): a bigger pool of "
                     "incompressible pages only moves the thrashing"));
}

/**
 * vt_doctor_rule_guest_thrashing:
 * @ctx: the context
 *
 * guest-compression-thrashing: the same judgement on a guest's own zram
 * and zswap, from the figures its agent reports (silent without them).
 */
void
vt_doctor_rule_guest_thrashing(VtDoctorContext *ctx)
{
        for (guint i = 0; i < ctx->in->n_guests; i++) {
                const VtDoctorGuest *g = &ctx->in->guests[i];
                const VtDoctorGuestCompressed *c = &g->compressed;
                g_autoptr(GString) figures = g_string_new(NULL);
                gboolean full, tracking, stalls;

                if (!c->present)
                        continue;
                full = pool_full(c->zram_used_bytes, c->zram_limit_bytes) ||
                       c->zswap_pool_limit_hit > 0;
                tracking = c->has_swap_rates && swap_tracking(c->swap_in_per_s, c->swap_out_per_s);
                stalls = c->psi_some_avg10 >= VT_DOCTOR_PSI_RISING || g->under_pressure;
                if (!full && !(tracking && stalls))
                        continue;
                if (c->zram_limit_bytes > 0)
                        vt_doctor_figure_add(figures, "zram used %s of its mem_limit %s",
                                             DOCTOR_SIZE(c->zram_used_bytes),
                                             DOCTOR_SIZE(c->zram_limit_bytes));
                if (c->zswap_pool_limit_hit > 0)
                        vt_doctor_figure_add(figures, "zswap pool_limit_hit +%" G_GUINT64_FORMAT,
                                             c->zswap_pool_limit_hit);
                if (c->has_swap_rates)
                        vt_doctor_figure_add(figures, "swap-in %.0f/s; swap-out %.0f/s",
                                             c->swap_in_per_s, c->swap_out_per_s);
                if (c->psi_some_avg10 >= 0.0)
                        vt_doctor_figure_add(figures, "memory PSI some %.1f %%", c->psi_some_avg10);
                vt_doctor_add(
                    ctx, stalls ? VT_DOCTOR_SEVERITY_CRITICAL : VT_DOCTOR_SEVERITY_WARNING, g->name,
                    g_strdup(full ? "the guest's compressed swap is at its limit"
                                  : "the guest thrashes on its compressed swap"),
                    g_string_free(g_steal_pointer(&figures), FALSE),
                    g_strdup("Give the guest memory (deflate its balloon or raise its "
                             "floor): what sits in its zram is memory it needs, not "
                             "free memory"));
        }
}

/* One zram device's judgement; figures and a title when it saves little. */
static void
judge_zram(VtDoctorContext *ctx, const char *subject, const char *device, guint64 orig,
           guint64 used, guint64 huge_pages)
{
        double ratio, huge_share, pages;

        if (orig < VT_DOCTOR_ZRAM_MIN_BYTES || used == 0)
                return;
        ratio = (double)orig / (double)used;
        pages = (double)orig / (double)ctx->page_size;
        huge_share = (double)huge_pages / pages;
        if (ratio >= VT_DOCTOR_ZRAM_POOR_RATIO && huge_share <= VT_DOCTOR_ZRAM_HUGE_SHARE)
                return;
        vt_doctor_add(
            ctx, VT_DOCTOR_SEVERITY_WARNING, subject,
            g_strdup_printf("%s saves little: its data compresses %.2f:1", device, ratio),
            g_strdup_printf("stored %s; memory used %s; ratio %.2f (poor below %.1f); "
                            "incompressible %.0f %% (huge_pages %" G_GUINT64_FORMAT ")",
                            DOCTOR_SIZE(orig), DOCTOR_SIZE(used), ratio, VT_DOCTOR_ZRAM_POOR_RATIO,
                            100.0 * huge_share, huge_pages),
            g_strdup("The data does not compress (binaries, media, encrypted pages compress "
                     "about 1.2:1): try zstd for a better ratio, drop zram for this workload, "
                     "or with a backing device write huge pages back (echo huge > writeback)"));
}

/**
 * vt_doctor_rule_zram_ratio:
 * @ctx: the context
 *
 * zram-poor-ratio: a zram device holding at least
 * %VT_DOCTOR_ZRAM_MIN_BYTES whose stored bytes per byte of memory used
 * are below %VT_DOCTOR_ZRAM_POOR_RATIO, or whose incompressible pages
 * pass %VT_DOCTOR_ZRAM_HUGE_SHARE; on the host and in guests that report.
 */
void
vt_doctor_rule_zram_ratio(VtDoctorContext *ctx)
{
        const VtHostMmSample *mm = ctx->in->mm;

        for (guint i = 0; mm != NULL && i < mm->n_zram; i++) {
                const VtHostZram *z = &mm->zram[i];

                if (z->has_mm_stat)
                        judge_zram(ctx, "host", z->name, z->orig_data_size, z->mem_used_total,
                                   z->huge_pages);
        }
        for (guint i = 0; i < ctx->in->n_guests; i++) {
                const VtDoctorGuest *g = &ctx->in->guests[i];

                if (g->compressed.present)
                        judge_zram(ctx, g->name, "its zram", g->compressed.zram_orig_bytes,
                                   g->compressed.zram_used_bytes, g->compressed.zram_huge_pages);
        }
}
