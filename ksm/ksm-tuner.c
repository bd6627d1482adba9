/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtide's KSM tuner: merge only while the host needs memory, and only while it pays. */

/*
 * Theory of operation
 *
 * ksmd costs CPU on every page it scans and saves memory only on the pages
 * it merges; merged pages stay merged when it stops (run=0). So the tuner
 * answers three questions on every sample: is memory needed, is there
 * something left to merge, and is merging still paying for its CPU.
 *
 * Need. Like ksmtuned, KSM is off while the host has ample memory, but
 * "ample" is MemAvailable (page cache counts as available, unlike MemFree)
 * and memory pressure (PSI), not MemFree and the sum of QEMU RSS:
 *   - start when MemAvailable < start_available of MemTotal, or PSI some
 *     avg10 >= start_psi_some;
 *   - stop when MemAvailable > stop_available and PSI some < half of
 *     start_psi_some;
 *   - in between keep whatever KSM is doing: merging that lifts MemAvailable
 *     just over the start line does not stop it, and a stop does not start
 *     again until another 10 % of RAM (by default) is used: no flapping.
 * Memory is "critical" below half of start_available, at twice
 * start_psi_some, or at a PSI full of a fifth of it: that lifts a back-off.
 * No guests, no mergeable memory or every guest opted out: stop.
 *
 * Left to merge. The sum of the non-opted-out guests' mergeable bytes minus
 * their merged pages (/proc/PID/ksm_merging_pages; when a guest lacks it, the
 * global pages_shared + pages_sharing). This over-counts (unique pages never
 * merge), so it only decides whether a start is worth a ramp: under
 * max(64 MiB, 1 % of MemTotal) KSM runs at pages_to_scan_min.
 *
 * Pace. A start jumps at once to the pages_to_scan the CPU cap allows by
 * the model share = p·c / (sleep + p·c) (p pages per batch, c CPU per page):
 * with c = 4 us, what merging passes cost on this project's machines
 * (test-ksm-guest measures about 1.2 us a page on the first, checksum-only
 * pass and 3–4 us on the passes that merge; the kernel advisor's defaults,
 * at most 30000 pages and 70 % CPU, imply about 1.6 us), and the default
 * cap: 494 pages per 20 ms, five times ksmd's default, where ksmtuned
 * needs two minutes to pass 500 in steps of 300 a minute. Starting from
 * the checksum cost instead overshot the cap twofold on the first merging
 * pass. From then on the MEASURED ksmd CPU share rules:
 *   - over the cap: pages_to_scan × 0.9·cap / measured (proportional, aimed
 *     at 90 % of the cap because one interval's share is noisy);
 *   - coming back from a back-off with the yield paying again: from the
 *     minimum straight up to the model's starting rate, or to what the
 *     measured share allows, whichever is less (and at most ×1.5 from a
 *     pace above the minimum), never above pages_to_scan_max (or the
 *     kernel's);
 *   - otherwise: keep it. The first passes over fresh memory only
 *     checksum pages and cost a third of what merging passes do, so
 *     speeding up on them would overshoot the cap once merging starts.
 * When ksmd's CPU cannot be read, the model with a pessimistic c = 8 us
 * (247 pages per 20 ms at the default cap) is the ceiling and the yield is
 * judged from the bytes saved per second over that assumed share.
 *
 * Runs of two passes. KSM merges a page only when its checksum held
 * between two visits: the first full pass over new memory checksums, the
 * second merges whatever held still (the first copy of a page goes into
 * the unstable tree, the others merge with it). So a start merges for two
 * whole passes and then backs off, whatever the last interval yielded: a
 * third pass would only scan again what is merged or unique, and the bench
 * measured the passes after the second at a third of the CPU of the whole
 * merge, for nothing. KSM resumes a scan where it stopped, so the first
 * `full_scans` step may end a partial pass: two whole passes are three
 * steps (state->scratch holds the second; a low yield there ends the run).
 * A run also ends once an interval has yielded min_yield and then two in
 * a row did not.
 *
 * Yield. Bytes newly saved per ksmd CPU-second; it does not depend on the
 * pace, so it is measured at whatever pace KSM runs. Backing off is a
 * trickle: pages_to_scan_min every ten sleeps (run stays 1: merged pages
 * stay merged, CoW-broken and new pages still get merged, and 100 pages
 * per 200 ms costs about 0.1 % of a CPU) for 60 s. The measured pace is
 * read in pages per the tuner's own sleep, so the trickle is not taken for
 * the full pace. When the 60 s are over (state->remeasure), the yield
 * alone decides: too idle to measure at the trickle, a sample runs at the
 * minimum and full sleep; under min_yield, another 60 s; paying, a new run of two passes.
 * Memory turning critical ends a back-off at once and starts a new run (a
 * guest may have booted with fresh duplicates, whose first pass yields
 * nothing), unless the back-off itself was decided under critical memory:
 * then merging was already shown not to help, and the balloon and
 * migration have to.
 *
 * Never run=2 unless allow_unmerge; even then only on a stop while something
 * is merged and only if MemAvailable minus what unmerging gives back stays
 * above stop_available, so unmerging cannot by itself start KSM again.
 *
 * The kernel's scan-time advisor (6.8+) is not used. It re-tunes
 * pages_to_scan once per full scan (minutes), aiming at a scan time, with a
 * CPU ceiling of its own (advisor_max_cpu, 70 % by default) rather than our
 * cap; it cannot stop, back off on yield, or react to pressure within a
 * sample, and while it is on the kernel refuses pages_to_scan. Kernels with
 * and without it are treated alike (use_advisor FALSE); the advisor is a
 * baseline (ksm-tuner-advisor.c).
 *
 * Pure: no I/O, no clock; `now` comes in the input.
 */
#include "ksm/ksm-tuner.h"

#include <math.h> /* isfinite(), a macro: no libm */
#include <stdarg.h>

#include "common/vt-size.h"

#define BACKOFF_US (60 * G_USEC_PER_SEC)
/* A back-off trickles: pages_to_scan_min every 10 sleeps. */
#define BACKOFF_SLEEP_FACTOR 10
/* Low-yield intervals in a row that end merging once it has been seen. */
#define LOW_YIELD_INTERVALS 2
/* Aim under the cap: one interval's measured share is noisy. */
#define CAP_MARGIN 0.9
/* Below this share ksmd did too little work to measure a yield. */
#define CPU_IDLE    0.002
#define STEP_UP_MAX 1.5
/* Full scans after a start before the yield is trusted (see above). */
#define GRACE_FULL_SCANS         2
#define PAGE_COST_NOMINAL_US     4.0 /* a merging pass, see above */
#define PAGE_COST_PESSIMISTIC_US 8.0
#define LEFT_MIN_BYTES           (G_GUINT64_CONSTANT(64) << 20)
#define LEFT_MIN_FRACTION        0.01
#define DEFAULT_PAGE_SIZE        4096

/**
 * vt_ksm_tuner_config_init:
 * @config: (out caller-allocates): filled with vmtide's defaults, each
 *     justified below
 */
void
vt_ksm_tuner_config_init(VtKsmTunerConfig *config)
{
        g_return_if_fail(config != NULL);

        *config = (VtKsmTunerConfig){
            /* A tenth of one CPU: on a 2-socket host that is well under 1 %
             * of its cycles, yet at about 4 us per merging page it scans 500
             * pages per 20 ms, 95 MiB/s: a 64 GiB host's guests in twelve
             * minutes. */
            .cpu_cap = 0.10,
            /* Merge when less than 30 % of RAM is available and stop above
             * 40 %: the balloon acts later (lower), and the gap keeps KSM
             * from flapping. */
            .start_available = 0.30,
            .stop_available = 0.40,
            /* 5 % of the last 10 s with some task stalled on memory: reclaim
             * is already visible as latency; twice that is critical. */
            .start_psi_some = 5.0,
            /* 1 MiB saved per ksmd CPU-second: one CPU-second at 2-4 us a
             * page scans 1-2 GiB, so a lower yield means fewer than one page
             * in 1000-2000 still merges. Priced: a vCPU costs about what 4-8 GiB
             * of RAM does, and a merged page lives for hours, so 1 MiB kept
             * an hour (3.5 GiB-seconds) is worth about one CPU-second: below
             * it the CPU is worth more than the memory. */
            .min_yield_bytes_per_cpu_s = 1024.0 * 1024.0,
            /* The kernel's default: about 1 % of a CPU, keeps merged pages
             * merged and picks up new ones slowly. */
            .pages_to_scan_min = 100,
            /* 4000 per 20 ms = 780 MiB/s, a 64 GiB host in under 90 s; about
             * 45 % of a CPU at 4 us a page, so the cap binds long before,
             * and a ceiling still holds if the CPU measurement lies. */
            .pages_to_scan_max = 4000,
            /* The kernel's default; the pace is set by pages_to_scan. */
            .sleep_millisecs = 20,
            .allow_unmerge = FALSE,
            .advisor_target_scan_time_s = 200,
        };
}

typedef struct {
        const VtKsmTunerInput *in;
        const VtKsmTunerConfig *config;
        VtKsmTunerState *state;
        VtKsmDecision *d;
        double cap;
        double target_share;
        guint64 sleep_ms;
        guint64 page_size;
        guint64 lo;
        guint64 hi;
        double avail;
        double psi_some;
        double psi_full;
        guint n_active;
        guint64 mergeable;
        guint64 left;
        guint64 left_min;
        gboolean need;
        gboolean ample;
        gboolean critical;
        gboolean cpu_unknown;
        double cpu;
        gboolean have_rates;
        gboolean backoff_expired;
        guint64 basis;
        guint64 pace;
} Tuner;

static void G_GNUC_PRINTF(2, 3) set_reason(VtKsmDecision *d, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        g_vsnprintf(d->reason_buf, sizeof(d->reason_buf), format, ap);
        va_end(ap);
        d->reason = d->reason_buf;
}

/* "pages_to_scan 4000 -> 2571", or "pages_to_scan 100" when it stays; (transfer full) */
static char *
pages_str(guint64 from, guint64 to)
{
        if (from == to)
                return g_strdup_printf("pages_to_scan %" G_GUINT64_FORMAT, to);
        return g_strdup_printf("pages_to_scan %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT, from,
                               to);
}

/* pages_to_scan at which ksmd takes @share of a CPU at @cost_us per page
 * (rounded down: the cast truncates a non-negative value). */
static guint64
pages_for_share(double share, double cost_us, guint64 sleep_ms)
{
        share = CLAMP(share, 0.0, 0.95);
        return (guint64)(share * (double)sleep_ms * 1000.0 / (cost_us * (1.0 - share)));
}

static double
share_for_pages(guint64 pages, double cost_us, guint64 sleep_ms)
{
        double busy_us = (double)pages * cost_us;

        return busy_us / ((double)sleep_ms * 1000.0 + busy_us);
}

static guint64
clamp_pages(const Tuner *t, double pages)
{
        if (!(pages >= (double)t->lo))
                return t->lo;
        if (pages >= (double)t->hi)
                return t->hi;
        return (guint64)pages;
}

static void
tuner_init(Tuner *t, const VtKsmTunerInput *in, const VtKsmTunerConfig *config,
           VtKsmTunerState *state, VtKsmDecision *d)
{
        const VtKsmHost *host = in->host;
        const VtKsmSample *sample = in->sample;
        const VtKsmRates *rates = in->rates;
        double start_psi = MAX(config->start_psi_some, 0.0);
        double start_avail = config->start_available;
        double stop_avail = MAX(config->stop_available, start_avail);
        guint64 merged = 0;
        gboolean per_process = TRUE;

        *t = (Tuner){.in = in, .config = config, .state = state, .d = d};

        /* Configuration comes from a file: sanitize instead of asserting. */
        t->cap = isfinite(config->cpu_cap) ? CLAMP(config->cpu_cap, 0.005, 1.0) : 0.10;
        t->target_share = t->cap * CAP_MARGIN;
        t->sleep_ms = config->sleep_millisecs > 0 ? config->sleep_millisecs : 20;
        t->page_size = in->kernel->page_size > 0 ? in->kernel->page_size : DEFAULT_PAGE_SIZE;
        t->hi = config->pages_to_scan_max > 0 ? config->pages_to_scan_max : 4000;
        if (in->kernel->pages_to_scan_max > 0)
                t->hi = MIN(t->hi, in->kernel->pages_to_scan_max);
        t->lo = CLAMP(config->pages_to_scan_min, 1, t->hi);

        t->avail = (double)host->mem_available / (double)host->mem_total;
        t->psi_some = isfinite(host->psi_some_avg10) ? host->psi_some_avg10 : 0.0;
        t->psi_full = isfinite(host->psi_full_avg10) ? host->psi_full_avg10 : 0.0;
        t->need = t->avail < start_avail || t->psi_some >= start_psi;
        t->ample = t->avail > stop_avail && t->psi_some < start_psi / 2;
        t->critical = t->avail < start_avail / 2 || t->psi_some >= 2 * start_psi ||
                      (start_psi > 0 && t->psi_full >= start_psi / 5);

        for (guint i = 0; i < in->n_guests; i++) {
                const VtKsmGuest *g = &in->guests[i];

                if (g->opt_out)
                        continue;
                t->n_active++;
                t->mergeable += g->mergeable_bytes;
                if (g->merging_pages < 0)
                        per_process = FALSE;
                else
                        merged += (guint64)g->merging_pages * t->page_size;
        }
        /* Without per-process counts, the global ones: they may include
         * other processes' pages, which only makes the estimate cautious. */
        if (!per_process)
                merged = (sample->pages_shared + sample->pages_sharing) * t->page_size;
        t->left = t->mergeable > merged ? t->mergeable - merged : 0;
        t->left_min = MAX(LEFT_MIN_BYTES, (guint64)((double)host->mem_total * LEFT_MIN_FRACTION));

        t->have_rates = rates != NULL && rates->interval_us > 0;
        t->cpu_unknown = sample->ksmd_cpu_us < 0;
        t->cpu = -1;
        if (t->have_rates) {
                if (rates->ksmd_cpu_share >= 0 && isfinite(rates->ksmd_cpu_share))
                        t->cpu = rates->ksmd_cpu_share;
                else
                        t->cpu_unknown = TRUE;
        }

        /* The measured share belongs to what the kernel ran with. */
        t->basis = sample->run == 1 && sample->pages_to_scan > 0 ? sample->pages_to_scan
                                                                 : state->pages_to_scan;
        if (t->basis == 0)
                t->basis = t->lo;
        /* The pace in pages per tuner sleep: a back-off trickles at a longer
         * sleep, and what it measured must not be read as the full pace. */
        t->pace = t->basis;
        if (sample->run == 1 && sample->sleep_millisecs > t->sleep_ms)
                t->pace = MAX(t->basis * t->sleep_ms / sample->sleep_millisecs, 1);
}

/* Where a start or a ramp goes: what the cap allows by the model. */
static guint64
tuner_start_pages(const Tuner *t)
{
        double cost = t->cpu_unknown ? PAGE_COST_PESSIMISTIC_US : PAGE_COST_NOMINAL_US;

        return clamp_pages(t, (double)pages_for_share(t->target_share, cost, t->sleep_ms));
}

static const char *
tuner_need_str(const Tuner *t, char *buf, gsize size)
{
        if (t->avail < t->config->start_available)
                g_snprintf(buf, size, "host MemAvailable %.0f %% < %.0f %%", t->avail * 100,
                           t->config->start_available * 100);
        else
                g_snprintf(buf, size, "host memory PSI some %.1f %% >= %.1f %%", t->psi_some,
                           t->config->start_psi_some);
        return buf;
}

static const char *
tuner_critical_str(const Tuner *t, char *buf, gsize size)
{
        if (t->avail < t->config->start_available / 2)
                g_snprintf(buf, size, "MemAvailable %.0f %% < %.0f %%", t->avail * 100,
                           t->config->start_available * 50);
        else if (t->psi_some >= 2 * t->config->start_psi_some)
                g_snprintf(buf, size, "PSI some %.1f %% >= %.1f %%", t->psi_some,
                           2 * t->config->start_psi_some);
        else
                g_snprintf(buf, size, "PSI full %.1f %% >= %.1f %%", t->psi_full,
                           t->config->start_psi_some / 5);
        return buf;
}

static void
tuner_stop(Tuner *t, const char *why)
{
        const VtKsmSample *sample = t->in->sample;
        guint64 saved = sample->pages_sharing * t->page_size;
        VtSizeText saved_str = vt_size_to_text((double)saved, VT_SIZE_STYLE_DECIMAL);

        t->d->run = 0;
        t->d->pages_to_scan = t->basis;
        if (!t->config->allow_unmerge || saved == 0) {
                set_reason(t->d, "%s: KSM off", why);
                return;
        }
        if ((double)t->in->host->mem_available - (double)saved >
            t->config->stop_available * (double)t->in->host->mem_total) {
                t->d->run = 2;
                set_reason(t->d, "%s: KSM off, unmerge %s (allowed)", why, saved_str.str);
        } else {
                set_reason(t->d, "%s: KSM off, not unmerging %s: would fall under %.0f %%", why,
                           saved_str.str, t->config->stop_available * 100);
        }
}

/* What the yield of an interval says (tuner_judge()). */
typedef enum {
        JUDGE_GO,   /* keep merging */
        JUDGE_LOW,  /* the yield fell under min_yield */
        JUDGE_DONE, /* two whole passes since the start: merging is done */
} Judgement;

static void
tuner_back_off(Tuner *t, double yield, Judgement why)
{
        VtSizeText yield_str = vt_size_to_text(yield, VT_SIZE_STYLE_DECIMAL);
        VtSizeText min_str =
            vt_size_to_text(t->config->min_yield_bytes_per_cpu_s, VT_SIZE_STYLE_DECIMAL);
        g_autofree char *pages_change = pages_str(t->basis, t->lo);
        gboolean again = t->backoff_expired || t->state->remeasure;
        char what[96];

        t->d->run = 1;
        t->d->pages_to_scan = t->lo;
        t->d->sleep_millisecs = t->sleep_ms * BACKOFF_SLEEP_FACTOR;
        t->state->merging_seen = FALSE;
        t->state->low_yield_intervals = 0;
        t->state->backoff_until_us = t->in->now_us + BACKOFF_US;
        t->state->backoff_critical = t->critical;
        /* After it, the yield measured again decides, not the passes. */
        t->state->remeasure = TRUE;
        if (why == JUDGE_DONE)
                g_snprintf(what, sizeof(what), "%d full scans since the start (yield %s)",
                           GRACE_FULL_SCANS + 1, yield_str.str);
        else
                g_snprintf(what, sizeof(what), "yield %s per CPU-second < %s", yield_str.str,
                           min_str.str);
        set_reason(t->d, "%s: %s, %s every %" G_GUINT64_FORMAT " ms for %d s", what,
                   again ? "stay backed off" : "back off", pages_change, t->d->sleep_millisecs,
                   (int)(BACKOFF_US / G_USEC_PER_SEC));
}

static void
tuner_start(Tuner *t)
{
        char need[80];
        VtSizeText left_str = vt_size_to_text((double)t->left, VT_SIZE_STYLE_DECIMAL);
        gint64 now = t->in->now_us;

        tuner_need_str(t, need, sizeof(need));
        t->d->run = 1;
        /* The first pass over fresh memory merges almost nothing. */
        t->state->scratch = (gint64)(t->in->sample->full_scans + GRACE_FULL_SCANS);
        t->state->remeasure = FALSE;
        t->state->merging_seen = FALSE;
        t->state->low_yield_intervals = 0;

        if (now < t->state->backoff_until_us && !(t->critical && !t->state->backoff_critical)) {
                t->d->pages_to_scan = t->lo;
                t->d->sleep_millisecs = t->sleep_ms * BACKOFF_SLEEP_FACTOR;
                /* Still backed off: at its end the yield decides, not the passes. */
                t->state->remeasure = TRUE;
                set_reason(t->d,
                           "%s: start at pages_to_scan %" G_GUINT64_FORMAT
                           ", backed off %" G_GINT64_FORMAT " s more",
                           need, t->lo, (t->state->backoff_until_us - now) / G_USEC_PER_SEC);
                return;
        }
        t->state->backoff_until_us = 0;
        t->state->backoff_critical = FALSE;
        if (t->left < t->left_min) {
                t->d->pages_to_scan = t->lo;
                set_reason(
                    t->d, "%s: start at pages_to_scan %" G_GUINT64_FORMAT ", only %s left to merge",
                    need, t->lo, left_str.str);
                return;
        }
        t->d->pages_to_scan = tuner_start_pages(t);
        set_reason(t->d, "%s: start, %s mergeable left, pages_to_scan %" G_GUINT64_FORMAT, need,
                   left_str.str, t->d->pages_to_scan);
}

/*
 * What the yield of the last interval says. A start merges for two full
 * passes (the first checksums, the second merges whatever held still
 * since) and then backs off: a third pass would only find pages that
 * changed, and the trickle finds those. KSM resumes its scan where it
 * stopped, so the first `full_scans` step after a start may end a partial
 * pass: two whole passes are three steps. Merging ends sooner when the
 * yield is low after two steps, or once it has been seen paying and then
 * fell under min_yield LOW_YIELD_INTERVALS times in a row. After
 * a back-off (state->remeasure), the yield alone decides: low, stay
 * backed off; paying, a new run of two passes. *trusted says whether the
 * pace may grow: only on merging passes measured whole.
 */
static Judgement
tuner_judge(Tuner *t, double yield, gboolean *trusted)
{
        VtKsmTunerState *state = t->state;
        gboolean scanned = t->in->sample->full_scans >= (guint64)MAX(state->scratch, 0);
        gboolean low = !(yield >= t->config->min_yield_bytes_per_cpu_s);

        if (low) {
                /* Before merging shows, low is the checksum-only pass. */
                if (state->merging_seen)
                        state->low_yield_intervals++;
        } else {
                state->merging_seen = TRUE;
                state->low_yield_intervals = 0;
        }
        *trusted = scanned;
        if (state->remeasure) {
                if (low)
                        return JUDGE_LOW;
                state->remeasure = FALSE;
                state->scratch = (gint64)(t->in->sample->full_scans + GRACE_FULL_SCANS);
                *trusted = TRUE;
                return JUDGE_GO;
        }
        if (scanned && low)
                return JUDGE_LOW;
        /* The pass KSM was in when it started counts as the first: one
         * more makes sure two whole passes were made. */
        if (t->in->sample->full_scans >= (guint64)MAX(state->scratch, 0) + 1)
                return JUDGE_DONE;
        if (low && state->low_yield_intervals >= LOW_YIELD_INTERVALS)
                return JUDGE_LOW;
        return JUDGE_GO;
}

/* Inside a back-off: trickle, unless memory turned critical since it began. */
static void
tuner_run_backed_off(Tuner *t)
{
        VtKsmTunerState *state = t->state;
        VtKsmDecision *d = t->d;
        gint64 now = t->in->now_us;
        char why[80];

        if (t->critical && !state->backoff_critical) {
                guint64 pages = MAX(tuner_start_pages(t), clamp_pages(t, (double)t->pace));
                g_autofree char *pages_change = NULL;

                state->backoff_until_us = 0;
                /* A new run: fresh memory's first pass yields nothing. */
                state->remeasure = FALSE;
                state->merging_seen = FALSE;
                state->low_yield_intervals = 0;
                state->scratch = (gint64)(t->in->sample->full_scans + GRACE_FULL_SCANS);
                d->pages_to_scan = pages;
                pages_change = pages_str(t->basis, pages);
                set_reason(d, "memory critical (%s): end back-off, %s",
                           tuner_critical_str(t, why, sizeof(why)), pages_change);
                return;
        }
        d->pages_to_scan = t->lo;
        d->sleep_millisecs = t->sleep_ms * BACKOFF_SLEEP_FACTOR;
        set_reason(d,
                   "backed off %" G_GINT64_FORMAT " s more%s: "
                   "pages_to_scan %" G_GUINT64_FORMAT " every %" G_GUINT64_FORMAT " ms",
                   (state->backoff_until_us - now) / G_USEC_PER_SEC,
                   state->backoff_critical ? " (memory critical)" : "", t->lo, d->sleep_millisecs);
}

/* ksmd's CPU unknown: the yield over the pessimistic model's share. */
static void
tuner_run_cpu_unknown(Tuner *t)
{
        double assumed = share_for_pages(t->pace, PAGE_COST_PESSIMISTIC_US, t->sleep_ms);
        double yield = t->in->rates->saved_per_s / assumed;
        g_autofree char *pages_change = NULL;
        gboolean judge = FALSE;
        guint64 pages;

        Judgement verdict = tuner_judge(t, yield, &judge);

        if (verdict != JUDGE_GO) {
                tuner_back_off(t, yield, verdict);
                return;
        }
        pages = tuner_start_pages(t);
        t->d->pages_to_scan = pages;
        pages_change = pages_str(t->basis, pages);
        set_reason(t->d, "ksmd CPU unknown: %s (%.0f %% of a CPU at %.0f us a page)", pages_change,
                   t->target_share * 100, PAGE_COST_PESSIMISTIC_US);
}

/* Under half the cap on merging passes measured whole: ramp up. */
static void
tuner_run_ramp(Tuner *t)
{
        const VtKsmRates *rates = t->in->rates;
        VtSizeText yield_str = vt_size_to_text(rates->yield_bytes_per_cpu_s, VT_SIZE_STYLE_DECIMAL);
        g_autofree char *pages_change = NULL;
        double full = (double)t->pace * t->target_share / t->cpu;
        double step = (double)t->pace * STEP_UP_MAX;
        guint64 pages;

        /* From the minimum (after a back-off) straight back up to the
         * model's rate if the measure allows; otherwise half again a
         * step at most: merging passes differ in cost, and a rate
         * already measured is a better guide than the model. */
        if (t->pace <= t->config->pages_to_scan_min)
                step = MAX(step, (double)tuner_start_pages(t));
        pages = clamp_pages(t, MIN(full, step));
        t->d->pages_to_scan = pages;
        pages_change = pages_str(t->basis, pages);
        set_reason(t->d, "ksmd %.1f %% CPU < cap %.0f %%, yield %s per CPU-second: %s",
                   t->cpu * 100, t->cap * 100, yield_str.str, pages_change);
}

/* The measured ksmd CPU share sets the pace; @judge: merging passes measured. */
static void
tuner_run_pace(Tuner *t, gboolean judge)
{
        VtKsmDecision *d = t->d;
        g_autofree char *pages_change = NULL;
        guint64 pages;

        if (t->cpu > t->cap) {
                pages = clamp_pages(t, (double)t->pace * t->target_share / t->cpu);
                d->pages_to_scan = pages;
                pages_change = pages_str(t->basis, pages);
                set_reason(d, "ksmd %.1f %% CPU > cap %.0f %%: %s", t->cpu * 100, t->cap * 100,
                           pages_change);
                return;
        }

        if (t->cpu < CPU_IDLE) {
                pages = clamp_pages(t, (double)t->pace);
                d->pages_to_scan = pages;
                set_reason(d, "ksmd idle (%.1f %% CPU): pages_to_scan %" G_GUINT64_FORMAT,
                           t->cpu * 100, pages);
                return;
        }

        t->state->backoff_critical = FALSE;
        /*
         * The first pass only checksums pages; merging starts on the second
         * and costs several times more per page (measured here: 1.2 µs then
         * 3 µs). Scaling up on the first pass's cost overshoots the cap, so
         * the rate only grows once merging passes have been measured.
         */
        if (t->cpu < t->cap / 2 && !judge) {
                pages = clamp_pages(t, (double)t->pace);
                d->pages_to_scan = pages;
                set_reason(d,
                           "ksmd %.1f %% CPU < cap %.0f %%, first passes (merging costs more): "
                           "pages_to_scan %" G_GUINT64_FORMAT,
                           t->cpu * 100, t->cap * 100, pages);
                return;
        }
        if (t->cpu < t->cap / 2) {
                tuner_run_ramp(t);
                return;
        }

        pages = clamp_pages(t, (double)t->pace);
        d->pages_to_scan = pages;
        set_reason(d, "ksmd %.1f %% CPU within cap %.0f %%: pages_to_scan %" G_GUINT64_FORMAT,
                   t->cpu * 100, t->cap * 100, pages);
}

/* KSM is running and memory is short or in the hysteresis band. */
static void
tuner_run(Tuner *t)
{
        const VtKsmRates *rates = t->in->rates;
        VtKsmTunerState *state = t->state;
        VtKsmDecision *d = t->d;
        gboolean judge = FALSE;
        guint64 pages;

        d->run = 1;

        if (t->in->now_us < state->backoff_until_us) {
                tuner_run_backed_off(t);
                return;
        }

        /* A back-off that ran out: the yield measured at the minimum says
         * whether to renew it ("stay backed off") or to ramp. */
        t->backoff_expired = state->backoff_until_us != 0;
        state->backoff_until_us = 0;

        if (t->left < t->left_min) {
                VtSizeText left_str = vt_size_to_text((double)t->left, VT_SIZE_STYLE_DECIMAL);
                g_autofree char *pages_change = pages_str(t->basis, t->lo);

                d->pages_to_scan = t->lo;
                set_reason(d, "only %s left to merge: %s", left_str.str, pages_change);
                return;
        }

        if (!t->have_rates) {
                pages = clamp_pages(t, (double)t->pace);
                if (t->cpu_unknown)
                        pages = MIN(pages, tuner_start_pages(t));
                d->pages_to_scan = pages;
                set_reason(d, "KSM running, no rates yet: pages_to_scan %" G_GUINT64_FORMAT, pages);
                return;
        }

        if (t->cpu_unknown) {
                tuner_run_cpu_unknown(t);
                return;
        }

        if (t->cpu >= CPU_IDLE) {
                Judgement verdict = tuner_judge(t, rates->yield_bytes_per_cpu_s, &judge);

                if (verdict != JUDGE_GO) {
                        tuner_back_off(t, rates->yield_bytes_per_cpu_s, verdict);
                        return;
                }
        }

        tuner_run_pace(t, judge);
}

/**
 * vt_ksm_tuner_decide:
 * @input: the host, guests, kernel, latest sample and rates, and `now`
 * @config: the tunables (vt_ksm_tuner_config_init() for the defaults)
 * @state: carried between calls; start zeroed
 * @ret_decision: (out): the knobs to set and why
 *
 * vmtide's tuner (theory of operation above). Always decides: missing or
 * odd inputs give a cautious decision with its reason, never an error.
 */
void
vt_ksm_tuner_decide(const VtKsmTunerInput *input, const VtKsmTunerConfig *config,
                    VtKsmTunerState *state, VtKsmDecision *ret_decision)
{
        const VtKsmSample *sample;
        Tuner t;

        g_return_if_fail(input != NULL && input->host != NULL && input->kernel != NULL &&
                         input->sample != NULL);
        g_return_if_fail(input->guests != NULL || input->n_guests == 0);
        g_return_if_fail(config != NULL && state != NULL && ret_decision != NULL);

        sample = input->sample;
        *ret_decision = (VtKsmDecision){0};

        if (input->host->mem_total == 0) {
                /* A failed read of /proc/meminfo: leave KSM as it is. */
                ret_decision->run = sample->run == 1 ? 1 : 0;
                ret_decision->pages_to_scan = sample->pages_to_scan;
                ret_decision->sleep_millisecs = sample->sleep_millisecs;
                ret_decision->reason = "host MemTotal unknown: no change";
                return;
        }

        tuner_init(&t, input, config, state, ret_decision);
        ret_decision->sleep_millisecs = t.sleep_ms;

        if (state->pages_to_scan == 0) {
                /* First decision: adopt what the kernel is doing (vmtided
                 * restarted, or KSM enabled by the distribution) as a run
                 * at its pace: the first interval's yield says nothing (the
                 * guests' memory may be in its checksum pass), two passes
                 * at the adopted pace do. */
                state->running = sample->run == 1;
                state->scratch = (gint64)(sample->full_scans + GRACE_FULL_SCANS);
                state->remeasure = FALSE;
        }

        if (input->n_guests == 0) {
                tuner_stop(&t, "no guests");
        } else if (t.n_active == 0) {
                char why[64];

                g_snprintf(why, sizeof(why), "all %u guests opted out of KSM", input->n_guests);
                tuner_stop(&t, why);
        } else if (t.mergeable == 0) {
                tuner_stop(&t, "no mergeable guest memory");
        } else if (t.ample) {
                char why[96];

                g_snprintf(why, sizeof(why),
                           "host MemAvailable %.0f %% > %.0f %%, PSI some %.1f %% < %.1f %%",
                           t.avail * 100, config->stop_available * 100, t.psi_some,
                           config->start_psi_some / 2);
                tuner_stop(&t, why);
        } else if (!state->running && !t.need) {
                ret_decision->run = 0;
                ret_decision->pages_to_scan = t.basis;
                set_reason(ret_decision,
                           "host MemAvailable %.0f %% (start < %.0f %%, stop > %.0f %%), "
                           "PSI some %.1f %%: stay off",
                           t.avail * 100, config->start_available * 100,
                           config->stop_available * 100, t.psi_some);
        } else if (!state->running) {
                tuner_start(&t);
        } else {
                tuner_run(&t);
        }

        g_assert(ret_decision->run <= 2);
        g_assert(ret_decision->run != 2 || config->allow_unmerge);
        g_assert(ret_decision->run != 1 ||
                 (ret_decision->pages_to_scan >= t.lo && ret_decision->pages_to_scan <= t.hi));
        state->running = ret_decision->run == 1;
        if (ret_decision->pages_to_scan > 0)
                state->pages_to_scan = ret_decision->pages_to_scan;
}
