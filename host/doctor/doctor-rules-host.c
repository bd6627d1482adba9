/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The doctor's rules on the host's memory layout: fragmentation (the
 * free memory is there but not in blocks a huge page or a compaction
 * needs) and the memory topology (tiers, NUMA nodes: reported, not
 * judged).
 */
#include "host/doctor/doctor-rules-private.h"

/* The kernel's default extfrag_threshold (Documentation/admin-guide/sysctl/vm.rst). */
#define EXTFRAG_THRESHOLD_DEFAULT 500

/* Zones whose extfrag index for a huge page is over the kernel's threshold. */
static gboolean
frag_extfrag(const VtHostFrag *f, GString *signs)
{
        gint threshold =
            f->extfrag_threshold >= 0 ? f->extfrag_threshold : EXTFRAG_THRESHOLD_DEFAULT;
        gboolean found = FALSE;

        for (guint i = 0; f->has_extfrag && i < f->n_zones; i++) {
                const VtHostZone *z = &f->zones[i];
                gint index;

                if (!z->has_extfrag || z->n_orders <= VT_HOST_THP_ORDER)
                        continue;
                index = z->extfrag_index[VT_HOST_THP_ORDER];
                if (index <= threshold)
                        continue;
                found = TRUE;
                vt_doctor_figure_add(signs, "node %d %s extfrag_index at order %d %.3f > %.3f",
                                     z->node, z->name, VT_HOST_THP_ORDER, index / 1000.0,
                                     threshold / 1000.0);
        }
        return found;
}

/* Zones with enough free memory, nearly none of it in huge-page blocks. */
static gboolean
frag_buddy(const VtDoctorContext *ctx, const VtHostFrag *f, GString *signs)
{
        gboolean found = FALSE;

        for (guint i = 0; i < f->n_zones; i++) {
                const VtHostZone *z = &f->zones[i];
                double unusable = vt_host_zone_unusable(z, VT_HOST_THP_ORDER);
                guint64 free_pages = 0;

                for (guint o = 0; o < z->n_orders && o < VT_HOST_ORDERS_MAX; o++)
                        free_pages += z->free_blocks[o] << o;
                if (free_pages * ctx->page_size < VT_DOCTOR_FRAG_ZONE_MIN ||
                    unusable < VT_DOCTOR_FRAG_UNUSABLE)
                        continue;
                found = TRUE;
                vt_doctor_figure_add(signs, "node %d %s: %.0f %% of %s free in blocks below 2 MiB",
                                     z->node, z->name, 100.0 * unusable,
                                     DOCTOR_SIZE(free_pages * ctx->page_size));
        }
        return found;
}

/* Direct compaction failing, THP faults falling back, between the two samples. */
static gboolean
frag_events(const VtDoctorContext *ctx, const VtHostFrag *f, const VtHostFrag *p, GString *signs)
{
        guint64 stall, fail, alloc, fallback;
        gboolean found = FALSE;

        if (f->has_compact && p->has_compact &&
            vt_doctor_mm_delta(ctx, f->compact_stall, p->compact_stall, &stall) &&
            vt_doctor_mm_delta(ctx, f->compact_fail, p->compact_fail, &fail) &&
            fail >= VT_DOCTOR_FRAG_MIN_EVENTS &&
            (double)fail >= VT_DOCTOR_FRAG_FAIL_SHARE * (double)stall) {
                found = TRUE;
                vt_doctor_figure_add(signs,
                                     "compact_stall +%" G_GUINT64_FORMAT
                                     "; compact_fail +%" G_GUINT64_FORMAT " in %.0f s",
                                     stall, fail, ctx->mm_interval_s);
        }
        if (f->has_thp_vmstat && p->has_thp_vmstat &&
            vt_doctor_mm_delta(ctx, f->thp_fault_alloc, p->thp_fault_alloc, &alloc) &&
            vt_doctor_mm_delta(ctx, f->thp_fault_fallback, p->thp_fault_fallback, &fallback) &&
            fallback >= VT_DOCTOR_FRAG_MIN_EVENTS &&
            (double)fallback >= VT_DOCTOR_FRAG_FAIL_SHARE * (double)(alloc + fallback)) {
                found = TRUE;
                vt_doctor_figure_add(signs,
                                     "thp_fault_fallback +%" G_GUINT64_FORMAT
                                     " of %" G_GUINT64_FORMAT " THP faults in %.0f s",
                                     fallback, alloc + fallback, ctx->mm_interval_s);
        }
        return found;
}

/**
 * vt_doctor_rule_fragmentation:
 * @ctx: the context
 *
 * fragmentation: a warning when direct compaction fails or THP faults
 * fall back between the two samples (it costs now); advice when only the
 * state says it (the extfrag index at the huge page's order over the
 * kernel's extfrag_threshold, or a zone's free memory nearly all in
 * small blocks).
 */
void
vt_doctor_rule_fragmentation(VtDoctorContext *ctx)
{
        const VtHostMmSample *mm = ctx->in->mm;
        g_autoptr(GString) signs = NULL;
        gboolean events = FALSE, state;

        if (mm == NULL)
                return;
        signs = g_string_new(NULL);
        if (ctx->in->mm_prev != NULL)
                events = frag_events(ctx, &mm->frag, &ctx->in->mm_prev->frag, signs);
        state = frag_extfrag(&mm->frag, signs);
        state = frag_buddy(ctx, &mm->frag, signs) || state;
        if (!events && !state)
                return;
        if (mm->frag.thp_enabled[0] != '\0')
                vt_doctor_figure_add(signs, "THP enabled %s, defrag %s", mm->frag.thp_enabled,
                                     mm->frag.thp_defrag);
        vt_doctor_add(ctx, events ? VT_DOCTOR_SEVERITY_WARNING : VT_DOCTOR_SEVERITY_ADVICE, "host",
                      g_strdup(events ? "fragmented memory: compaction fails or huge pages fall "
                                        "back"
                                      : "free memory is fragmented"),
                      g_string_free(g_steal_pointer(&signs), FALSE),
                      g_strdup("Compact once (echo 1 > /proc/sys/vm/compact_memory), keep more "
                               "free (vm.min_free_kbytes, vm.watermark_scale_factor), set THP "
                               "defrag to defer+madvise so faults do not stall; back guests "
                               "with hugetlbfs reserved at boot if they need huge pages"));
}

static void
tiers_figures(const VtHostTopo *t, GString *figures, guint *ret_mem_nodes)
{
        guint mem_nodes = 0;

        for (guint i = 0; i < t->n_tiers; i++)
                vt_doctor_figure_add(figures, "memory_tier%d nodes %s", t->tiers[i].id,
                                     t->tiers[i].nodelist);
        for (guint i = 0; i < t->n_nodes; i++) {
                const VtHostNode *n = &t->nodes[i];

                if (n->mem_total == 0)
                        continue;
                mem_nodes++;
                vt_doctor_figure_add(figures, "node%d %s (free %s)%s", n->id,
                                     DOCTOR_SIZE(n->mem_total), DOCTOR_SIZE(n->mem_free),
                                     n->has_cpus ? "" : " without CPUs");
        }
        *ret_mem_nodes = mem_nodes;
}

/**
 * vt_doctor_rule_tiers:
 * @ctx: the context
 *
 * memory-tiers: several memory tiers, or several NUMA nodes with memory:
 * the tiers, the nodes and where each guest's memory sits (report only).
 */
void
vt_doctor_rule_tiers(VtDoctorContext *ctx)
{
        const VtHostMmSample *mm = ctx->in->mm;
        g_autoptr(GString) figures = NULL;
        guint mem_nodes = 0;

        if (mm == NULL)
                return;
        figures = g_string_new(NULL);
        tiers_figures(&mm->topo, figures, &mem_nodes);
        if (mm->topo.n_tiers < 2 && mem_nodes < 2)
                return;
        for (guint i = 0; i < ctx->in->n_guests; i++)
                if (ctx->in->guests[i].numa_nodes != NULL)
                        vt_doctor_figure_add(figures, "%s on nodes %s", ctx->in->guests[i].name,
                                             ctx->in->guests[i].numa_nodes);
        vt_doctor_add(ctx, VT_DOCTOR_SEVERITY_INFO, "host",
                      g_strdup_printf("%u memory tiers, %u NUMA nodes with memory",
                                      mm->topo.n_tiers, mem_nodes),
                      g_string_free(g_steal_pointer(&figures), FALSE),
                      g_strdup("Nothing to fix: vmtide balances by host, not by node or tier; "
                               "pin guests to nodes (numatune) if slow tiers hurt them"));
}
