/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The migration cost model: passes, bytes, time and downtime of a pre-copy move. Pure. */
#include "migrate/migrate-cost.h"

#include "common/vt-time.h"

/*
 * Theory of operation (docs/migration.md says why each assumption holds).
 *
 * QEMU's pre-copy (7.2) sends all RAM once with the guest running, then
 * again each page the guest dirtied meanwhile, pass after pass. Before each
 * pass it compares what remains with bandwidth × downtime-limit (the
 * threshold); once what remains fits, it stops the guest and copies the
 * rest: the downtime. The model walks those passes:
 *
 *   V1 = the guest's RAM          (on the wire: its resident part, plus a
 *                                  few bytes per zero page)
 *   Vk+1 = min(RAM, rate × Vk / bandwidth), whole pages
 *
 * the rate being the measured dirty rate, lowered to RAM per window when
 * above (a page counts once in a window). The first k with Vk <= threshold
 * is the stop-and-copy: it converges in k passes. When Vk+1 >= Vk what
 * remains no longer shrinks (rate >= bandwidth): the move is predicted as
 * stopped right there with Vk, the least downtime it can reach. When the
 * pass limit comes first, it is stopped at that pass with what remains. A
 * pass after which nothing is dirty needs no final copy, so a guest that
 * dirties nothing moves in one pass even under a limit of one.
 *
 * The working set. A rate read over a long window W (the first pass, as
 * the planner asks) is the distinct pages dirtied over W, per second: a
 * guest that rewrites the same 64 MiB reads 64 MiB / W whatever its real
 * rate once it rewrites faster than that. Applied to the later passes,
 * much shorter than W, that low rate predicts convergence where the guest
 * outruns the link (bench-migrate-accuracy: 0 of 8 such moves caught).
 * Given a second reading over a short window (1 s) as well, the model
 * reads the long one as a working set WS = rate × W and a pass of T
 * seconds dirties
 *
 *   D(T) = min(short rate × T, max(WS, rate × T), RAM)
 *
 * the short rate saying whether a short pass outruns the link, the working
 * set capping what a pass up to W can dirty, and past W the long rate
 * extrapolating as before (D is continuous: rate × W = WS). The distinct
 * pages per second over a window never grow with the window, so a short
 * rate under the long one is a sampling error and the long one stands.
 * Without a short reading D(T) = min(rate × T, RAM), the walk above.
 *
 * Arithmetic is in double: sizes up to 2^64 bytes times rates up to 2^64
 * bytes per second stay finite there, and every result is clamped back
 * into its integer type (VT_MIGRATE_COST_FOREVER for a time that does not
 * fit). Nothing divides by the bandwidth before it is known to be non-zero.
 */

#define USEC_PER_SEC 1e6
#define TWO_POW_64   18446744073709551616.0
#define TWO_POW_63   9223372036854775808.0

/* The inputs, cleaned and in double. */
typedef struct {
        double mem;       /* RAM, bytes */
        double wire1;     /* the first pass on the wire, bytes */
        double rate;      /* bytes per second over a short pass, after the window's cap */
        double ws_rate;   /* bytes per second past the long window */
        double ws;        /* the working set, bytes: what a pass up to the long window dirties */
        double bandwidth; /* bytes per second, > 0 */
        double page;      /* bytes, > 0 */
        double threshold; /* bandwidth × downtime-limit, bytes */
        guint max_passes; /* 1 .. VT_MIGRATE_COST_PASSES_MAX */
} Model;

/* Where the walk over the passes ended. */
typedef struct {
        VtMigrateCostOutcome outcome;
        guint passes;
        double sent;       /* wire bytes, every pass */
        double final_ram;  /* what remains at the stop, RAM bytes */
        double final_wire; /* the same on the wire */
        double shown[4];   /* wire bytes of the first three passes and the last */
} Walk;

static guint64
bytes_from_double(double x)
{
        if (!(x > 0))
                return 0;
        if (x >= TWO_POW_64)
                return G_MAXUINT64;
        return (guint64)x;
}

/* Seconds of @bytes at @bandwidth, in microseconds rounded to nearest. */
static gint64
us_from_bytes(double bytes, double bandwidth)
{
        double us = bytes / bandwidth * USEC_PER_SEC + 0.5;

        if (!(us > 0))
                return 0;
        if (us >= TWO_POW_63)
                return VT_MIGRATE_COST_FOREVER;
        return (gint64)us;
}

static gint64
us_add(gint64 a, gint64 b)
{
        if (a >= VT_MIGRATE_COST_FOREVER - b)
                return VT_MIGRATE_COST_FOREVER;
        return a + b;
}

/* @x rounded up to whole pages (the dirty log counts pages). */
static double
round_up_to_page(double x, double page)
{
        double n = x / page;
        double whole;

        if (!(n > 0))
                return 0;
        if (n >= TWO_POW_63)
                return n * page; /* integral already at that size */
        whole = (double)(gint64)n;
        if (whole < n)
                whole += 1;
        return whole * page;
}

/* What the guest dirties while @wire bytes go over, RAM bytes. */
static double
model_dirtied(const Model *m, double wire)
{
        double t = wire / m->bandwidth;
        double d, bound;

        if (m->rate <= 0)
                return 0;
        d = m->rate * t;
        bound = m->ws_rate * t;
        if (bound < m->ws)
                bound = m->ws;
        if (d > bound)
                d = bound;
        d = round_up_to_page(d, m->page);
        return d < m->mem ? d : m->mem;
}

/* @rate, lowered to @mem per window when above (a page counts once). */
static double
rate_in_window(double mem, guint64 rate, gint64 window_us)
{
        double r = (double)rate;

        if (window_us > 0) {
                double most = mem / ((double)window_us / USEC_PER_SEC);

                if (r > most)
                        r = most;
        }
        return r;
}

/* The inputs as the walk reads them; the bandwidth must be non-zero. */
static void
model_init(Model *m, const VtMigrateCostInput *input)
{
        guint64 resident = input->resident_bytes;
        guint64 page = input->page_size ? input->page_size : VT_MIGRATE_COST_PAGE_SIZE_DEFAULT;
        double zero_pages;
        gint64 downtime_us = MAX(input->downtime_limit_us, 0);

        m->mem = (double)input->mem_bytes;
        m->page = (double)page;
        if (resident == 0 || resident > input->mem_bytes)
                resident = input->mem_bytes;
        zero_pages = (double)((input->mem_bytes - resident) / page);
        m->wire1 = (double)resident + zero_pages * VT_MIGRATE_COST_ZERO_PAGE_WIRE;

        m->rate = rate_in_window(m->mem, input->dirty_rate, input->dirty_window_us);
        m->ws_rate = m->rate;
        m->ws = 0;
        if (input->dirty_window_short_us > 0) {
                double rate_short =
                    rate_in_window(m->mem, input->dirty_rate_short, input->dirty_window_short_us);

                /* Without a longer window the long rate sets no working set. */
                if (input->dirty_window_us > input->dirty_window_short_us)
                        m->ws = m->rate * ((double)input->dirty_window_us / USEC_PER_SEC);
                else
                        m->ws = m->mem;
                if (rate_short > m->rate)
                        m->rate = rate_short;
        }
        m->bandwidth = (double)input->bandwidth;
        m->threshold = m->bandwidth * ((double)downtime_us / USEC_PER_SEC);
        m->max_passes = input->max_passes;
        if (m->max_passes == 0 || m->max_passes > VT_MIGRATE_COST_PASSES_MAX)
                m->max_passes = VT_MIGRATE_COST_PASSES_MAX;
}

static void
walk_show(Walk *w, guint pass, double wire)
{
        if (pass <= 3)
                w->shown[pass - 1] = wire;
        w->shown[3] = wire;
}

/* The final copy, at pass @k, of @ram bytes (@wire on the wire). */
static void
walk_stop(Walk *w, VtMigrateCostOutcome outcome, guint k, double ram, double wire)
{
        w->outcome = outcome;
        w->final_ram = ram;
        w->final_wire = wire;
        w->sent += wire;
        w->passes = ram > 0 ? k : k - 1;
        if (ram > 0)
                walk_show(w, k, wire);
}

/* Walks the passes (theory at the top of this file). */
static void
model_walk(const Model *m, Walk *w)
{
        double ram = m->mem;
        double wire = m->wire1;

        *w = (Walk){0};
        for (guint k = 1;; k++) {
                double next;

                if (ram <= m->threshold) {
                        walk_stop(w, VT_MIGRATE_COST_CONVERGES, k, ram, wire);
                        return;
                }
                next = model_dirtied(m, wire);
                if (next > 0 && next >= ram) {
                        walk_stop(w, VT_MIGRATE_COST_NO_PROGRESS, k, ram, wire);
                        return;
                }
                if (next > 0 && k >= m->max_passes) {
                        walk_stop(w, VT_MIGRATE_COST_PASS_LIMIT, k, ram, wire);
                        return;
                }
                /* A live pass; with nothing dirtied the next test converges. */
                w->sent += wire;
                walk_show(w, k, wire);
                ram = next;
                wire = next;
        }
}

/**
 * vt_migrate_cost_input_init:
 * @input: (out caller-allocates): the input to fill
 *
 * Zeroes @input and sets QEMU 7.2's defaults for the link: 128 MiB/s,
 * a 300 ms downtime limit, 4 KiB pages, no pass limit. The guest's figures
 * (@mem_bytes, @dirty_rate, @dirty_window_us) are the caller's to fill.
 */
void
vt_migrate_cost_input_init(VtMigrateCostInput *input)
{
        g_return_if_fail(input != NULL);

        *input = (VtMigrateCostInput){0};
        input->bandwidth = VT_MIGRATE_COST_BANDWIDTH_DEFAULT;
        input->downtime_limit_us = VT_MIGRATE_COST_DOWNTIME_DEFAULT;
        input->page_size = VT_MIGRATE_COST_PAGE_SIZE_DEFAULT;
}

/* ---- the reason ---- */

typedef struct {
        char str[24];
} Text;

/* "512 MiB", "1.5 GiB", "12 KiB", "0 B", "16.0 EiB". */
static Text
text_size(double bytes)
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        Text t;
        guint u = 0;

        while (bytes >= 1024 && u + 1 < G_N_ELEMENTS(units)) {
                bytes /= 1024;
                u++;
        }
        g_snprintf(t.str, sizeof(t.str), u >= 3 ? "%.1f %s" : "%.0f %s", bytes, units[u]);
        return t;
}

#define SIZE(bytes) (text_size((double)(bytes)).str)
#define TIME(us)    VT_TIME_STR(us)

/* "512 MiB + 40 MiB + 3 MiB", or "a + b + c + ... + z" past four passes. */
static void
format_passes(const Walk *w, char *buf, gsize len)
{
        switch (w->passes) {
        case 1:
                g_snprintf(buf, len, "%s", SIZE(w->shown[3]));
                break;
        case 2:
                g_snprintf(buf, len, "%s + %s", SIZE(w->shown[0]), SIZE(w->shown[3]));
                break;
        case 3:
                g_snprintf(buf, len, "%s + %s + %s", SIZE(w->shown[0]), SIZE(w->shown[1]),
                           SIZE(w->shown[3]));
                break;
        default:
                g_snprintf(buf, len, "%s + %s + %s + %s%s", SIZE(w->shown[0]), SIZE(w->shown[1]),
                           SIZE(w->shown[2]), w->passes > 4 ? "... + " : "", SIZE(w->shown[3]));
                break;
        }
}

static void
cost_reason(VtMigrateCost *cost, const VtMigrateCostInput *input, const Walk *w)
{
        char passes[96], set[40] = "";
        const char *s = w->passes == 1 ? "" : "es";
        gint64 limit_us = MAX(input->downtime_limit_us, 0);

        format_passes(w, passes, sizeof(passes));
        switch (cost->outcome) {
        case VT_MIGRATE_COST_CONVERGES:
                if (w->passes == 0)
                        g_snprintf(cost->reason, sizeof(cost->reason),
                                   "converges: nothing to send, %s down", TIME(cost->downtime_us));
                else
                        g_snprintf(cost->reason, sizeof(cost->reason),
                                   "converges in %u pass%s, %s: %s at %s/s, %s down", w->passes, s,
                                   TIME(cost->total_us), passes, SIZE(input->bandwidth),
                                   TIME(cost->downtime_us));
                break;
        case VT_MIGRATE_COST_PASS_LIMIT:
                g_snprintf(cost->reason, sizeof(cost->reason),
                           "does not converge in %u pass%s: %s at %s/s, %s down > %s limit",
                           w->passes, s, passes, SIZE(input->bandwidth), TIME(cost->downtime_us),
                           TIME(limit_us));
                break;
        case VT_MIGRATE_COST_NO_PROGRESS:
                if (cost->working_set_bytes < input->mem_bytes)
                        g_snprintf(set, sizeof(set), " of a %s set", SIZE(cost->working_set_bytes));
                g_snprintf(cost->reason, sizeof(cost->reason),
                           "does not converge: dirties %s/s%s, link %s/s, limit %s; stopped at "
                           "pass %u: %s, %s down",
                           SIZE(cost->dirty_rate), set, SIZE(input->bandwidth), TIME(limit_us),
                           w->passes, passes, TIME(cost->downtime_us));
                break;
        default:
                g_snprintf(cost->reason, sizeof(cost->reason), "never completes: no bandwidth");
                break;
        }
}

/* ---- the prediction ---- */

/**
 * vt_migrate_cost_predict:
 * @input: the guest and the link
 * @ret_cost: (out caller-allocates): the prediction
 *
 * Predicts a pre-copy live migration of the guest over the link: passes,
 * bytes, total time, downtime and whether it converges, with a reason.
 * Any input is accepted: zero or absurd figures give an outcome and
 * clamped numbers, never a division by zero (a bandwidth of 0 gives
 * %VT_MIGRATE_COST_NO_BANDWIDTH and times of %VT_MIGRATE_COST_FOREVER).
 */
void
vt_migrate_cost_predict(const VtMigrateCostInput *input, VtMigrateCost *ret_cost)
{
        Model m;
        Walk w;
        gint64 switchover_us;

        g_return_if_fail(input != NULL && ret_cost != NULL);

        *ret_cost = (VtMigrateCost){0};
        model_init(&m, input);
        ret_cost->dirty_rate = bytes_from_double(m.rate);
        ret_cost->working_set_bytes =
            bytes_from_double(input->dirty_window_short_us > 0 && m.ws < m.mem ? m.ws : m.mem);
        ret_cost->threshold_bytes = bytes_from_double(m.threshold);
        if (input->bandwidth == 0) {
                ret_cost->outcome = VT_MIGRATE_COST_NO_BANDWIDTH;
                ret_cost->total_us = VT_MIGRATE_COST_FOREVER;
                ret_cost->downtime_us = VT_MIGRATE_COST_FOREVER;
                ret_cost->first_pass_us = VT_MIGRATE_COST_FOREVER;
                cost_reason(ret_cost, input, &(Walk){.outcome = VT_MIGRATE_COST_NO_BANDWIDTH});
                return;
        }

        model_walk(&m, &w);
        switchover_us = MAX(input->switchover_us, 0);
        ret_cost->outcome = w.outcome;
        ret_cost->converges = w.outcome == VT_MIGRATE_COST_CONVERGES;
        ret_cost->passes = w.passes;
        ret_cost->bytes_sent = bytes_from_double(w.sent);
        ret_cost->remaining_bytes = bytes_from_double(w.final_ram);
        ret_cost->total_us = us_add(us_from_bytes(w.sent, m.bandwidth), switchover_us);
        ret_cost->downtime_us = us_add(us_from_bytes(w.final_wire, m.bandwidth), switchover_us);
        ret_cost->first_pass_us = us_from_bytes(m.wire1, m.bandwidth);
        cost_reason(ret_cost, input, &w);
}

/* ---- what would make it converge ---- */

static gboolean
converges_with(const VtMigrateCostInput *input, guint64 bandwidth, gint64 downtime_limit_us)
{
        VtMigrateCostInput in = *input;
        Model m;
        Walk w;

        if (bandwidth == 0)
                return FALSE;
        in.bandwidth = bandwidth;
        in.downtime_limit_us = downtime_limit_us;
        model_init(&m, &in);
        model_walk(&m, &w);
        return w.outcome == VT_MIGRATE_COST_CONVERGES;
}

/* The least that can remain at a stop within the pass limit, RAM bytes. */
static double
model_least_remainder(const Model *m)
{
        double ram = m->mem;
        double wire = m->wire1;
        double least = ram;

        for (guint k = 1; k <= m->max_passes; k++) {
                double next = model_dirtied(m, wire);

                if (ram < least)
                        least = ram;
                if (next == 0)
                        return 0;
                if (next >= ram)
                        break; /* it only grows from here */
                ram = next;
                wire = next;
        }
        return least;
}

/**
 * vt_migrate_cost_downtime_needed:
 * @input: the guest and the link; its @downtime_limit_us is ignored
 * @ret_downtime_limit_us: (out): the least downtime limit (QEMU
 *     `downtime-limit`, so without @switchover_us) with which the move
 *     converges within @input's pass limit; %VT_MIGRATE_COST_FOREVER when
 *     it does not fit
 *
 * For the executor's downtime ramp and the planner: how far the limit must
 * rise. A move that makes no progress still has a least remainder (what
 * remains when it stops shrinking), and so a limit.
 *
 * Returns: %FALSE when no limit helps (no bandwidth); @ret_downtime_limit_us
 *     is then untouched
 */
gboolean
vt_migrate_cost_downtime_needed(const VtMigrateCostInput *input, gint64 *ret_downtime_limit_us)
{
        Model m;
        gint64 limit_us;

        g_return_val_if_fail(input != NULL && ret_downtime_limit_us != NULL, FALSE);

        if (input->bandwidth == 0)
                return FALSE;
        model_init(&m, input);
        limit_us = us_from_bytes(model_least_remainder(&m), m.bandwidth);
        /* Rounding may leave bandwidth × limit a hair short of the remainder. */
        for (int i = 0; i < 4 && limit_us < VT_MIGRATE_COST_FOREVER; i++) {
                if (converges_with(input, input->bandwidth, limit_us))
                        break;
                limit_us++;
        }
        *ret_downtime_limit_us = limit_us;
        return TRUE;
}

/**
 * vt_migrate_cost_bandwidth_needed:
 * @input: the guest and the link; its @bandwidth is ignored
 * @ret_bandwidth: (out): the least bandwidth, bytes per second, with which
 *     the move converges within @input's downtime limit and pass limit
 *
 * For the planner and the executor: what a link must carry (or a cap be
 * raised to) for this guest. Found by bisection: more bandwidth never
 * makes a move converge less.
 *
 * Returns: %FALSE when no bandwidth helps (a downtime limit of 0 with a
 *     guest that dirties anything) or none below 2^64 bytes per second
 *     does; @ret_bandwidth is then untouched
 */
gboolean
vt_migrate_cost_bandwidth_needed(const VtMigrateCostInput *input, guint64 *ret_bandwidth)
{
        guint64 lo = 0, hi = 1;
        gint64 limit_us;

        g_return_val_if_fail(input != NULL && ret_bandwidth != NULL, FALSE);

        /* Past RAM / downtime-limit everything fits at once: that much (and a
         * byte for rounding) is enough. */
        limit_us = MAX(input->downtime_limit_us, 0);
        if (limit_us > 0) {
                double at_once = (double)input->mem_bytes * USEC_PER_SEC / (double)limit_us;

                hi = bytes_from_double(round_up_to_page(at_once, 1) + 1);
        }
        if (!converges_with(input, hi, limit_us))
                return FALSE;
        while (hi - lo > 1) {
                guint64 mid = lo + (hi - lo) / 2;

                if (converges_with(input, mid, limit_us))
                        hi = mid;
                else
                        lo = mid;
        }
        *ret_bandwidth = hi;
        return TRUE;
}

/**
 * vt_migrate_cost_outcome_to_string:
 * @outcome: an outcome
 *
 * Returns: "converges", "pass-limit", "no-progress", "no-bandwidth"
 *     (static), or "?"
 */
const char *
vt_migrate_cost_outcome_to_string(VtMigrateCostOutcome outcome)
{
        static const char *const names[] = {
            [VT_MIGRATE_COST_CONVERGES] = "converges",
            [VT_MIGRATE_COST_PASS_LIMIT] = "pass-limit",
            [VT_MIGRATE_COST_NO_PROGRESS] = "no-progress",
            [VT_MIGRATE_COST_NO_BANDWIDTH] = "no-bandwidth",
        };

        if ((guint)outcome >= G_N_ELEMENTS(names))
                return "?";
        return names[outcome];
}
