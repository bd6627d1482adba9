/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtide doctor's rules: one pass over a host sample and its guests, findings out (pure). */
#pragma once

#include <glib.h>

#include "host/sensing/sensing-mm.h"
#include "host/sensing/sensing-sample.h"
#include "ksm/ksm-sample.h"

G_BEGIN_DECLS

/**
 * VtDoctorSeverity:
 * @VT_DOCTOR_SEVERITY_INFO: a fact worth knowing, nothing to fix (report)
 * @VT_DOCTOR_SEVERITY_ADVICE: a setting that hides something from vmtide
 *     or leaves memory on the table
 * @VT_DOCTOR_SEVERITY_WARNING: memory or CPU is being wasted now
 * @VT_DOCTOR_SEVERITY_CRITICAL: the host or a guest is in trouble now
 *
 * Findings are printed from the most severe down.
 */
typedef enum {
        VT_DOCTOR_SEVERITY_INFO,
        VT_DOCTOR_SEVERITY_ADVICE,
        VT_DOCTOR_SEVERITY_WARNING,
        VT_DOCTOR_SEVERITY_CRITICAL,
        VT_DOCTOR_SEVERITY_MAX,
} VtDoctorSeverity;

/* Thresholds; docs/doctor.md gives each one's source. */
/* Swap traffic, pages a second, below which swapping is background noise. */
#define VT_DOCTOR_SWAP_ACTIVE_PER_S 100.0
/* Swap-in at least this share of swap-out: pages go out and come straight back. */
#define VT_DOCTOR_SWAP_TRACKING 0.5
/* Memory PSI "some" (avg10, or its total over the interval), percent: stalls that hurt. */
#define VT_DOCTOR_PSI_RISING 10.0
/* A compressed pool this full of its limit is at its limit. */
#define VT_DOCTOR_POOL_FULL 0.95
/* A zram device is judged on its ratio once it holds this much. */
#define VT_DOCTOR_ZRAM_MIN_BYTES (G_GUINT64_CONSTANT(16) << 20)
/* Below this ratio (stored / memory used) a zram device saves too little. */
#define VT_DOCTOR_ZRAM_POOR_RATIO 1.5
/* Above this share of incompressible pages (huge_pages) the data does not compress. */
#define VT_DOCTOR_ZRAM_HUGE_SHARE 0.25
/* ksmd's CPU share (of one CPU) above which its yield is judged: vmtide's KSM cap. */
#define VT_DOCTOR_KSMD_CPU_HIGH 0.10
/* Below this many bytes newly saved per ksmd CPU-second, scanning does not pay (the tuner's). */
#define VT_DOCTOR_KSM_MIN_YIELD (1024.0 * 1024.0)
/* ksm_rmap_items per merged page above which KSM's metadata costs more than it saves. */
#define VT_DOCTOR_KSM_RMAP_RATIO 64.0
/* Compaction failures or THP fallbacks between two samples before a share is judged. */
#define VT_DOCTOR_FRAG_MIN_EVENTS 10
/* Share of direct compactions failing, or of THP faults falling back, that is fragmentation. */
#define VT_DOCTOR_FRAG_FAIL_SHARE 0.5
/* Share of a zone's free memory in blocks too small for a huge page (with enough free). */
#define VT_DOCTOR_FRAG_UNUSABLE 0.95
#define VT_DOCTOR_FRAG_ZONE_MIN (G_GUINT64_CONSTANT(256) << 20)
/* A balloon statistics period longer than this, seconds, leaves the policy blind. */
#define VT_DOCTOR_STATS_PERIOD_LONG 10
/* Host MemAvailable below this share of MemTotal: free page reporting would help. */
#define VT_DOCTOR_HOST_TIGHT 0.25

/**
 * VtDoctorTristate:
 * @VT_DOCTOR_UNKNOWN: not known (the backend does not say)
 * @VT_DOCTOR_NO: off
 * @VT_DOCTOR_YES: on
 */
typedef enum {
        VT_DOCTOR_UNKNOWN,
        VT_DOCTOR_NO,
        VT_DOCTOR_YES,
} VtDoctorTristate;

/**
 * VtDoctorGuestCompressed:
 * @present: the agent reported these figures (the fields below are
 *     meaningful only then)
 * @zram_orig_bytes: what the guest's zram holds, uncompressed
 * @zram_compr_bytes: the same, compressed
 * @zram_used_bytes: memory its zram uses (mm_stat's mem_used_total)
 * @zram_limit_bytes: its zram's mem_limit; 0: none
 * @zram_huge_pages: its incompressible pages
 * @zswap_pool_bytes: its zswap pool
 * @zswap_pool_limit_hit: its zswap refused stores for a full pool
 *     since the last report (0: none or unknown)
 * @has_swap_rates: the rates below were measured
 * @swap_in_per_s: pages swapped in (zram and zswap loads included) a second
 * @swap_out_per_s: pages swapped out a second
 * @psi_some_avg10: the guest's memory PSI "some" avg10, percent; -1 unknown
 *
 * A guest's compressed memory as its agent reports it: `vmtide doctor`
 * fills these from the agent's figures in the daemon's query-guests
 * (cli/cli-doctor-sample.c); @present is %FALSE when the agent reported
 * neither zram nor zswap.
 */
typedef struct {
        gboolean present;
        guint64 zram_orig_bytes;
        guint64 zram_compr_bytes;
        guint64 zram_used_bytes;
        guint64 zram_limit_bytes;
        guint64 zram_huge_pages;
        guint64 zswap_pool_bytes;
        guint64 zswap_pool_limit_hit;
        gboolean has_swap_rates;
        double swap_in_per_s;
        double swap_out_per_s;
        double psi_some_avg10;
} VtDoctorGuestCompressed;

/**
 * VtDoctorGuest:
 * @name: the guest's name (borrowed)
 * @has_balloon: it has a virtio-balloon device
 * @stats_period_s: its balloon statistics period, seconds: 0 off, -1
 *     unknown
 * @has_stats: statistics have arrived (QEMU's last-update is not 0)
 * @has_agent: vmtide-agent reports from it
 * @balloon_stuck: its last balloon move stalled (VT_GUEST_MOVE_STUCK)
 * @at_floor: its balloon target is at its minimum guarantee
 * @under_pressure: it reports memory pressure (agent push or PSI)
 * @free_page_reporting: its balloon's free-page-reporting
 * @mem_merge: QEMU's mem-merge: whether its RAM is offered to KSM
 * @ksm_opt_out: its policy opts it out of KSM
 * @has_ksm_stat: the @ksm_ fields were read (/proc/PID/ksm_stat)
 * @ksm_rmap_items: `ksm_rmap_items` of its QEMU process
 * @ksm_merging_pages: `ksm_merging_pages` of its QEMU process
 * @numa_nodes: (nullable): the host nodes its memory sits on, e.g. "0-1"
 *     (report only)
 * @compressed: its compressed memory, when the agent reports it
 *
 * What the doctor knows of one guest. Plain data; the sampler fills it
 * from the daemon's guests.
 */
typedef struct {
        const char *name;
        gboolean has_balloon;
        gint stats_period_s;
        gboolean has_stats;
        gboolean has_agent;
        gboolean balloon_stuck;
        gboolean at_floor;
        gboolean under_pressure;
        VtDoctorTristate free_page_reporting;
        VtDoctorTristate mem_merge;
        gboolean ksm_opt_out;
        gboolean has_ksm_stat;
        guint64 ksm_rmap_items;
        guint64 ksm_merging_pages;
        const char *numa_nodes;
        VtDoctorGuestCompressed compressed;
} VtDoctorGuest;

/**
 * VtDoctorInput:
 * @host: the host's memory sample (required)
 * @host_prev: (nullable): an earlier one, for swap and PSI rates
 * @mm: (nullable): the host's zram, zswap, swap, fragmentation and
 *     topology; %NULL when not read
 * @mm_prev: (nullable): an earlier one, for rates
 * @ksm: (nullable): KSM's global counters; %NULL without KSM
 * @ksm_prev: (nullable): an earlier sample, for ksmd's CPU share and yield
 * @ksmd_cpu_share: ksmd's CPU share if the caller measured it
 *     (vt_ksm_step_get_cpu_share()); -1 to compute it from @ksm_prev and
 *     @ksm
 * @page_size: bytes per page (0: 4096)
 * @other_ksm_writer: a process other than vmtided drives KSM's knobs
 * @other_ksm_writer_name: (nullable): what it is ("ksmtuned (pid 812)")
 * @guests: (array length=n_guests): the guests
 * @n_guests: their number
 *
 * Everything the rules read. Samples "prev" and current are two
 * readings some seconds apart (the sampler's interval); without them
 * the rules that need a rate stay silent. Borrowed pointers only.
 */
typedef struct {
        const VtHostSample *host;
        const VtHostSample *host_prev;
        const VtHostMmSample *mm;
        const VtHostMmSample *mm_prev;
        const VtKsmSample *ksm;
        const VtKsmSample *ksm_prev;
        double ksmd_cpu_share;
        guint64 page_size;
        gboolean other_ksm_writer;
        const char *other_ksm_writer_name;
        const VtDoctorGuest *guests;
        guint n_guests;
} VtDoctorInput;

/**
 * VtDoctorFinding:
 * @severity: how bad
 * @rule: the rule's id, e.g. "host-compression-thrashing" (static)
 * @rule_index: the rule's place in vt_doctor_rules_get()'s table
 * @subject: "host" or the guest's name
 * @title: one line: what is wrong
 * @figures: the figures the rule judged, as "name value" text joined by
 *     "; "
 * @advice: what to do
 *
 * One finding. Free with vt_doctor_finding_free().
 */
typedef struct {
        VtDoctorSeverity severity;
        const char *rule;
        guint rule_index;
        char *subject;
        char *title;
        char *figures;
        char *advice;
} VtDoctorFinding;

/**
 * VtDoctorRule:
 * @id: the rule's id, stable (printed, in JSON, in docs/doctor.md)
 * @summary: what it looks for, one line
 *
 * One rule of the table.
 */
typedef struct {
        const char *id;
        const char *summary;
} VtDoctorRule;

GPtrArray *vt_doctor_run(const VtDoctorInput *input);
void vt_doctor_finding_free(VtDoctorFinding *finding);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtDoctorFinding, vt_doctor_finding_free)

const VtDoctorRule *vt_doctor_rules_get(guint *ret_n);
const char *vt_doctor_severity_to_string(VtDoctorSeverity severity);

G_END_DECLS
